// The ("fixed", I, F) accumulator's per-product part (docs/mac.md 4.3; pipeline stage s4): each
// of the up-to-four exact products is truncated toward -inf to the register's LSB (the
// alignment shifter drops bits; a negative product with dropped bits rounds down) and clamped
// to the register range.  fixed_acc sums the clamped products and adds them (stage s5).
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors unused for some parameters
module fixed_slots #(
    parameter WF = 48,              // register width I + F
    parameter FF = 24,              // fraction bits F
    parameter integer PIPE = 0      // 1: prefix adders and bit tests instead of carry chains
) (
    input  wire [103:0]         pm,       // slot magnitudes from prod_slots
    input  wire [27:0]          psh,      // 4 x 7-bit exponent sums
    input  wire [3:0]           psign,
    input  wire [3:0]           mode,     // PIPE = 1: unused (tin carries its part)
    input  wire [39:0]          tin,      // PIPE = 1: per slot psh + lsb2(mode) + FF, from the stage before
    output wire [4*(WF+2)-1:0]  q,        // slot s in [s*(WF+2) +: WF+2], signed
    output wire [3:0]           qc        // PIPE = 1: q holds one's complements, qc[s] the +1 of slot s
);
`include "mac_defs.vh"
    localparam XW = WF + 27;                             // shifted magnitude width
    localparam integer WFI = WF;
    wire [31:0] wf32 = WFI;
    wire [6:0] WF7 = wf32[6:0];
    localparam integer FFI = FF;
    wire [31:0] ff32 = FFI;
    wire signed [9:0] t0 = lsb2_of(mode) + $signed(ff32[9:0]);   // product LSB exponent + F, less sh
    genvar s;
    generate
        for (s = 0; s < 4; s = s + 1) begin : g_slot
            wire [25:0] m = pm[26*s +: 26];
            wire sg = psign[s];
            wire signed [9:0] t = (PIPE != 0) ? $signed(tin[10*s +: 10]) : $signed({3'd0, psh[7*s +: 7]}) + t0;
            // t >= 0: shift left (capped: any nonzero m shifted by >= WF saturates anyway)
            wire [6:0] tl = ($signed({{22{t[9]}}, t}) >= WFI) ? WF7 : t[6:0];
            wire [XW-1:0] shl = {{(XW-26){1'b0}}, m} << tl;
            // t < 0: shift right by u (capped at 27: everything dropped), floor for negatives
            wire signed [9:0] tn = -t;
            wire [4:0] u = (tn > 27) ? 5'd27 : tn[4:0];
            wire [52:0] wr = {m, 27'd0} >> u;
            wire lost = |wr[26:0];
            wire [XW-1:0] mf = (t >= 0) ? shl : {{(XW-26){1'b0}}, wr[52:27]};
            wire [XW:0] mn;
            wire [XW:0] half = {{XW{1'b0}}, 1'b1} << (WF - 1);                      // 2^(WF-1)
            wire sat_p, sat_n;
            wire signed [WF+1:0] mx = {3'b000, {(WF-1){1'b1}}};                     // 2^(WF-1) - 1
            wire signed [WF+1:0] mi = {3'b111, {(WF-1){1'b0}}};                     // -2^(WF-1)
            wire signed [WF+1:0] mv = $signed({2'b00, mn[WF-1:0]});
            if (PIPE != 0) begin : g_p
                // no carry chain: mn = mf + inc is compared with 2^(WF-1) by bit tests, and a
                // negative slot is ~mf plus a carry (1 - inc) that the sum of the slots adds
                wire inc = (t < 0) & lost & sg;
                wire ge_h = |mf[XW-1:WF-1];                                   // mf >= 2^(WF-1)
                wire eq_hm1 = !ge_h && (&mf[WF-2:0]);                         // mf == 2^(WF-1) - 1
                wire gt_h = (|mf[XW-1:WF]) || (mf[WF-1] && (|mf[WF-2:0]));   // mf > 2^(WF-1)
                wire eq_h = mf[WF-1] && !(|mf[XW-1:WF]) && !(|mf[WF-2:0]);   // mf == 2^(WF-1)
                assign mn = {(XW+1){1'b0}};
                assign sat_p = ge_h || (eq_hm1 && inc);
                assign sat_n = gt_h || (eq_h && inc);
                wire [WF+1:0] mvf = {2'b00, mf[WF-1:0]};
                assign q[s*(WF+2) +: WF+2] = sg ? (sat_n ? mi : ~mvf) : (sat_p ? mx : mvf);
                assign qc[s] = sg & !sat_n & !inc;
            end else begin : g_r
                assign qc[s] = 1'b0;
                assign mn = {1'b0, mf} + {{XW{1'b0}}, (t < 0) & lost & sg};
                assign sat_p = (mn >= half);
                assign sat_n = (mn > half);
                assign q[s*(WF+2) +: WF+2] = sg ? (sat_n ? mi : -mv) : (sat_p ? mx : mv);
            end
        end
    endgenerate
endmodule
/* verilator lint_on UNUSEDSIGNAL */
