// The ("fixed", I, F) accumulator's adder (docs/mac.md 4.3; pipeline stage s5): a WF = I + F
// bit two's complement register with LSB 2^-F.  qs, the exact sum of the up-to-four clamped
// products of one word pair (fixed_slots, summed in stage s4), is added to the register with
// one saturating addition.
module fixed_acc #(
    parameter WF = 48,              // register width I + F
    parameter integer PIPE = 0      // 1: a prefix adder, and saturation from the top bits
) (
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: PIPE = 0 adds qs, PIPE = 1 qa + qb
    input  wire signed [WF+1:0] qs,
    input  wire [WF+2:0]        qa,         // PIPE = 1: qs as two carry-save addends (mod 2^(WF+3))
    input  wire [WF+2:0]        qb,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire signed [WF-1:0] acc,
    output wire signed [WF-1:0] sum
);
    wire signed [WF+2:0] tot;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: PIPE = 1 reads only their low WF bits
    wire signed [WF+2:0] hi = $signed({4'b0000, {(WF-1){1'b1}}});
    wire signed [WF+2:0] lo = $signed({4'b1111, {(WF-1){1'b0}}});
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (PIPE != 0) begin : g_p
            /* verilator lint_off UNUSEDSIGNAL */  // waiver: the carry out (the frame holds the sum)
            wire co;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [WF+2:0] ax = {{3{acc[WF-1]}}, acc};
            wire [WF+2:0] cs = ax ^ qa ^ qb;
            wire [WF+2:0] cc = ((ax & qa) | (ax & qb) | (qa & qb)) << 1;
            padd #(.W(WF+3)) u_add (.a(cs), .b(cc), .cin(1'b0), .s(tot), .cout(co));
            // tot > hi: non-negative with a bit at or above WF-1; tot < lo: negative and not all ones there
            wire over = !tot[WF+2] && (|tot[WF+1:WF-1]);
            wire under = tot[WF+2] && !(&tot[WF+1:WF-1]);
            assign sum = over ? hi[WF-1:0] : under ? lo[WF-1:0] : tot[WF-1:0];
        end else begin : g_r
            assign tot = $signed({{3{acc[WF-1]}}, acc}) + $signed({qs[WF+1], qs});
            assign sum = (tot > hi) ? hi[WF-1:0] : (tot < lo) ? lo[WF-1:0] : tot[WF-1:0];
        end
    endgenerate
endmodule
