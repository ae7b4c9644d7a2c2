// First half of the fused addition RNE_fp32(acc + x) (fadd_fp32): exponent compare, alignment
// and the exact signed sum f * 2^fexp of acc and x = (-1)^xs * xm * 2^xexp (an integer
// significand of up to MW bits, not normalised), with the smaller operand's bits beyond the
// frame folded into a sticky bit.  byp: the result is bval whatever f is (acc is Inf/NaN, or
// x is zero: acc, with -0 + 0 = +0).  fadd_fp32 rounds f with enc_fp32; the MX path registers
// this half's outputs and rounds in the next cycle.
// Exponent gaps above CAP fold the smaller operand into a sticky bit: the larger operand is at
// least 2^he, the smaller below 2^(he-CAP-1+NW), so the result is at least 2^(he-1) and the
// folded bits lie more than 20 places below its rounding position: the rounding is exact.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors unused for some parameters
module fadd_front #(
    parameter MW  = 26,             // width of xm
    parameter EW  = 12,             // width of the signed exponent xexp
    parameter CAP = 48,
    parameter FW  = ((MW > 24) ? MW : 24) + CAP + 3     // signed frame width (do not override)
) (
    input  wire [31:0]          acc,
    input  wire                 xs,
    input  wire [MW-1:0]        xm,
    input  wire signed [EW-1:0] xexp,   // exponent of xm's least significant bit
    output wire signed [FW-1:0] f,
    output wire signed [13:0]   fexp,   // exponent of f's least significant bit
    output wire                 byp,
    output wire [31:0]          bval
);
    localparam NW = (MW > 24) ? MW : 24;     // common significand width
    localparam [6:0] CAP7 = CAP;
    localparam integer NW1I = NW + 1;
    wire [31:0] nw1_32 = NW1I;
    wire [5:0] NW1 = nw1_32[5:0];
    wire [7:0]  ae = acc[30:23];
    wire [NW-1:0] am = {{(NW-24){1'b0}}, (ae == 8'd0) ? 1'b0 : 1'b1, acc[22:0]};
    wire signed [13:0] aexp = ((ae == 8'd0) ? 14'sd1 : $signed({6'd0, ae})) - 14'sd150;
    wire signed [13:0] bexp = $signed({{(14-EW){xexp[EW-1]}}, xexp});
    wire [NW-1:0] bm = {{(NW-MW){1'b0}}, xm};
    wire        as = acc[31];
    wire        a_zero = (am == {NW{1'b0}});
    wire        x_zero = (bm == {NW{1'b0}});
    // the operand with the larger exponent is "hi" (a zero operand is never hi)
    wire        a_hi = !a_zero && (x_zero || aexp >= bexp);
    wire [NW-1:0] hm = a_hi ? am : bm;
    wire [NW-1:0] lm = a_hi ? (x_zero ? {NW{1'b0}} : bm) : (a_zero ? {NW{1'b0}} : am);
    wire        hs = a_hi ? as : xs;
    wire        ls = a_hi ? xs : as;
    wire signed [13:0] he = a_hi ? aexp : bexp;
    wire signed [13:0] le = a_hi ? bexp : aexp;
    wire signed [14:0] d = he - le;          // >= 0 when lm != 0
    wire [6:0]  s  = (lm == {NW{1'b0}}) ? 7'd0 : (d > CAP) ? CAP7 : d[6:0];
    wire signed [14:0] r_full = d - $signed({8'd0, s});
    wire [5:0]  r  = (lm == {NW{1'b0}}) ? 6'd0 : ($signed({{17{r_full[14]}}, r_full}) > NW1I) ? NW1 : r_full[5:0];
    wire [2*NW-1:0] lw = {lm, {NW{1'b0}}} >> r;
    wire        lsticky = |lw[NW-1:0];
    wire [FW-1:0] hterm = {{(FW-NW){1'b0}}, hm} << (s + 7'd1);
    wire [FW-1:0] lt    = {{(FW-NW-1){1'b0}}, lw[2*NW-1:NW], lsticky};
    assign f = (hs ? -$signed(hterm) : $signed(hterm)) + (ls ? -$signed(lt) : $signed(lt));
    assign fexp = he - $signed({7'd0, s}) - 14'sd1;
    assign byp = (ae == 8'hff) || x_zero;
    assign bval = (ae == 8'hff) ? acc : (acc == 32'h80000000) ? 32'd0 : acc;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
