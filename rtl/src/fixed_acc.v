// The ("fixed", I, F) accumulator's adder (docs/mac.md 4.3; pipeline stage s5): a WF = I + F
// bit two's complement register with LSB 2^-F.  qs, the exact sum of the up-to-four clamped
// products of one word pair (fixed_slots, summed in stage s4), is added to the register with
// one saturating addition.
module fixed_acc #(
    parameter WF = 48               // register width I + F
) (
    input  wire signed [WF+1:0] qs,
    input  wire signed [WF-1:0] acc,
    output wire signed [WF-1:0] sum
);
    wire signed [WF+2:0] tot = $signed({{3{acc[WF-1]}}, acc}) + $signed({qs[WF+1], qs});
    wire signed [WF+2:0] hi = $signed({4'b0000, {(WF-1){1'b1}}});
    wire signed [WF+2:0] lo = $signed({4'b1111, {(WF-1){1'b0}}});
    assign sum = (tot > hi) ? hi[WF-1:0] : (tot < lo) ? lo[WF-1:0] : tot[WF-1:0];
endmodule
