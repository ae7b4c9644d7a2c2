// RNE_fp32(acc + x) with one rounding, where x = (-1)^xs * xm * 2^xexp is exact (an integer
// significand of up to MW bits, not normalised): the fused addition of sim's fadd32, used by
// the fp32 accumulator (fadd_front, then the magnitude rounded by enc_fp32, in one cycle).
// IEEE binary32: subnormal results kept, overflow to Inf, an exact zero sum gives +0, a nonzero
// sum that rounds to zero keeps its sign; an Inf/NaN acc stays as it is.
module fadd_fp32 #(
    parameter MW  = 26,             // width of xm
    parameter EW  = 12              // width of the signed exponent xexp
) (
    input  wire [31:0]          acc,
    input  wire                 xs,
    input  wire [MW-1:0]        xm,
    input  wire signed [EW-1:0] xexp,   // exponent of xm's least significant bit
    output wire [31:0]          sum
);
    localparam FW = ((MW > 24) ? MW : 24) + 48 + 3;
    wire signed [FW-1:0] f;
    wire signed [13:0] fexp;
    wire byp;
    wire [31:0] bval;
    fadd_front #(.MW(MW), .EW(EW), .CAP(48)) u_front (.acc(acc), .xs(xs), .xm(xm), .xexp(xexp),
        .f(f), .fexp(fexp), .byp(byp), .bval(bval));
    wire [FW-1:0] fm = f[FW-1] ? -f : f;
    wire [31:0] rounded;
    enc_fp32 #(.WM(FW), .EW(14)) u_round (.clk(1'b0), .rst(1'b0), .ce(1'b0), .sign(f[FW-1]), .mag(fm),
                                          .lsbexp(fexp), .code(rounded));
    assign sum = byp ? bval : rounded;
endmodule
