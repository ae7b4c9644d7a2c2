// Readout normaliser (pipeline stage s6), shared by every output encoder: the register
// magnitude mag * 2^lexp as a 40-bit significand with its leading one at bit 39, a sticky bit
// for everything below it, and the exponent of the leading one.  The encoders round from this
// form: 40 bits plus sticky is a round-to-odd at 41 bits, at least 2 bits more than any output
// needs (FP32 24, posit16 14, int32 31 + guard), so every later RNE rounding is exact.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// the left-aligned copy unused for some widths
module norm #(
    parameter W = 130
) (
    input  wire [W-1:0]        mag,
    input  wire signed [11:0]  lexp,    // exponent of mag's least significant bit
    output wire [39:0]         sig,     // sig[39] = 1 unless zero
    output wire                st,
    output wire signed [11:0]  mexp,    // exponent of sig[39]
    output wire                zero
);
    localparam XW = (W < 40) ? 40 : W;
    wire [7:0] lz;
    lzc #(.N(W), .CW(8)) u_lzc (.x(mag), .n(lz));
    wire [XW-1:0] mx = {mag, {(XW-W){1'b0}}};
    wire [XW-1:0] m = mx << lz;
    assign sig = m[XW-1 -: 40];
    generate
        if (XW > 40) begin : g_st
            assign st = |m[XW-41:0];
        end else begin : g_nost
            assign st = 1'b0;
        end
    endgenerate
    localparam integer TOP = W - 1;
    wire [31:0] top32 = TOP;
    assign mexp = lexp + $signed(top32[11:0]) - $signed({4'd0, lz});
    assign zero = ~(|mag);
endmodule
/* verilator lint_on UNUSEDSIGNAL */
