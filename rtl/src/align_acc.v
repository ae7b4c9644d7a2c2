// Alignment shifters and the exact accumulator's adder: the up-to-four signed products of one
// word pair, each shifted left by its exponent sum, added to the accumulator value.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, spare slot bits) unused for some parameters
module align_acc #(
    parameter integer MODES = 1023,
    parameter W = 130
) (
    input  wire [103:0]       pm,       // slot magnitudes from prod_slots
    input  wire [27:0]        psh,      // 4 x 7-bit exponent sums
    input  wire [3:0]         psign,
    input  wire signed [W-1:0] acc,
    output wire signed [W-1:0] sum
);
`include "mac_defs.vh"
    wire signed [W-1:0] t0, t1, t2, t3;
    genvar s;
    generate
        for (s = 0; s < 4; s = s + 1) begin : g_slot
            localparam SHMAX = max_psh(MODES, s);
            localparam SHW = (SHMAX > 0) ? clog2(SHMAX + 1) : 1;
            wire [SHW-1:0] sh = (SHMAX > 0) ? psh[7*s +: SHW] : {SHW{1'b0}};
            wire [W+25:0] prx = {{W{1'b0}}, pm[26*s +: 26]};
            wire signed [W-1:0] ext = prx[W-1:0] << sh;
            wire signed [W-1:0] t = psign[s] ? -ext : ext;
            if (s == 0) begin : g0 assign t0 = t; end
            if (s == 1) begin : g1 assign t1 = t; end
            if (s == 2) begin : g2 assign t2 = t; end
            if (s == 3) begin : g3 assign t3 = t; end
        end
    endgenerate
    assign sum = acc + ((t0 + t1) + (t2 + t3));
endmodule
/* verilator lint_on UNUSEDSIGNAL */
