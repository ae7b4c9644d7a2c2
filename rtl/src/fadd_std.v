// RNE_fp32(acc + x) for an addend x = (-1)^xs * xsig * 2^xexp given with its leading-zero count
// xlz (xsig << xlz has bit 23 set, or x is zero; A normalises it): a standard FP32 adder on a 28-bit frame (the larger
// operand's 24 bits, guard, round and sticky, one carry bit), for the deep pipeline's nvfp4 path
// (PIPE = 1, nv_deep), where it replaces fadd_pipe4's 75-bit frame.  Stages: A compares the
// exponents and swaps (acc is read here, and only here), B aligns the smaller operand (its bits
// beyond the frame folded into the sticky bit), C adds or subtracts (the sum, or the
// non-negative one of both differences), D normalises and rounds (enc_fp32).  CUT_AB = 1 puts a
// register between A and B (ce[1]); ce[2] loads B's result, ce[3] C's; CUT_D = 1 a register
// between D's normalising and its rounding (ce[4], enc_fp32's cut); the rest is combinational.
// NOSUB = 1: the sum is never subnormal (nvfp4: every operand is a multiple of 2^-20), so D
// leaves out the subnormal shift.
// Exact: the operand with the larger lsb exponent ("hi") is normalised (x always; acc when it is
// hi over a normalised x, unless acc is subnormal, which happens only with xexp - xlz <= -149, where no
// bits are shifted out), so when bits are folded (exponent gap d > 3) the result's leading one is
// at least 22 places above hi's lsb - 3: the sticky bit lies below the guard bit.  Requires
// xexp - xlz >= -149 (nvfp4: >= -43).  nan forces the canonical NaN; pass forces acc; acc Inf/NaN or
// x = 0 give acc (-0 + 0 = +0); an exact zero sum gives +0.  Same results as fadd_fp32.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: ce[1], ce[4] are unused without their cuts
module fadd_std #(
    parameter integer CUT_AB = 0,
    parameter integer CUT_D = 0,
    parameter integer NOSUB = 0
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [4:1]        ce,
    input  wire [31:0]       acc,
    input  wire              xs,
    input  wire [23:0]       xsig,
    input  wire [4:0]        xlz,
    input  wire signed [9:0] xexp,    // exponent of xsig's lsb
    input  wire              xzero,
    input  wire              nan,
    input  wire              pass,
    output wire [31:0]       sum
);
    // ---- A: decode acc, compare the exponents, swap, shift amount
    wire [7:0]  ae = acc[30:23];
    wire [23:0] am = {ae != 8'd0, acc[22:0]};
    wire signed [9:0] aexp = ((ae == 8'd0) ? 10'sd1 : $signed({2'd0, ae})) - 10'sd150;
    wire        a_zero = (acc[30:0] == 31'd0);
    wire [23:0] xn = xsig << xlz;
    wire signed [9:0] xe = xexp - $signed({5'd0, xlz});      // exponent of xn's lsb
    wire signed [10:0] ax = {aexp[9], aexp}, bx = {xe[9], xe};
    wire signed [10:0] dab = ax - bx, dba = bx - ax;
    wire        a_hi = !a_zero && (xzero || !dab[10]);
    wire [23:0] hm = a_hi ? am : xn;
    wire [23:0] lm = a_hi ? (xzero ? 24'd0 : xn) : (a_zero ? 24'd0 : am);
    wire        lmz = a_hi ? xzero : a_zero;
    wire        hs = a_hi ? acc[31] : xs;
    wire        ls = a_hi ? xs : acc[31];
    wire signed [10:0] dsel = a_hi ? dab : dba;                // >= 0
    wire [4:0]  dc = lmz ? 5'd0 : (dsel > 11'sd27) ? 5'd27 : dsel[4:0];
    wire signed [9:0] fexp = (a_hi ? aexp : xe) - 10'sd3;     // exponent of the frame's lsb
    wire        byp = pass || (ae == 8'hff) || xzero;
    wire [31:0] bval = (pass || ae == 8'hff) ? acc : (acc == 32'h80000000) ? 32'd0 : acc;
    localparam CA = 24 + 24 + 2 + 5 + 10 + 1 + 32 + 1;
    wire [23:0] hm1, lm1;
    wire hs1, ls1, byp1, nan1;
    wire [4:0] dc1;
    wire signed [9:0] fexp1;
    wire [31:0] bval1;
    pipe_reg #(.W(CA), .EN(CUT_AB)) u_ca (.clk(clk), .rst(rst), .ce(ce[1]),
        .d({hm, lm, hs, ls, dc, fexp, byp, bval, nan}), .q({hm1, lm1, hs1, ls1, dc1, fexp1, byp1, bval1, nan1}));
    // ---- B: align (the smaller operand right by the gap, the bits below the frame as sticky)
    wire [50:0] lw = {lm1, 27'd0} >> dc1;
    wire [27:0] lt = {1'b0, lw[50:25], lw[24] | (|lw[23:0])};
    wire [27:0] ht = {1'b0, hm1, 3'd0};
    localparam CB = 28 + 28 + 2 + 10 + 1 + 32 + 1;
    wire [27:0] ht2, lt2;
    wire hs2, ls2, byp2, nan2;
    wire signed [9:0] fexp2;
    wire [31:0] bval2;
    pipe_reg #(.W(CB)) u_cb (.clk(clk), .rst(rst), .ce(ce[2]),
        .d({ht, lt, hs1, ls1, fexp1, byp1, bval1, nan1}), .q({ht2, lt2, hs2, ls2, fexp2, byp2, bval2, nan2}));
    // ---- C: |(-1)^hs ht + (-1)^ls lt| and its sign
    wire [27:0] sum_w, d_hl, d_lh;
    wire co_s, ge, co_lh;
    padd #(.W(28)) u_sum (.a(ht2), .b(lt2), .cin(1'b0), .s(sum_w), .cout(co_s));
    padd #(.W(28)) u_dhl (.a(ht2), .b(~lt2), .cin(1'b1), .s(d_hl), .cout(ge));   // ge: ht2 >= lt2
    padd #(.W(28)) u_dlh (.a(lt2), .b(~ht2), .cin(1'b1), .s(d_lh), .cout(co_lh));
    wire sub = hs2 ^ ls2;
    wire [27:0] fm = !sub ? sum_w : ge ? d_hl : d_lh;
    wire fsg = (!sub || ge) ? hs2 : ls2;          // (a zero magnitude rounds to +0 whatever the sign)
    localparam CC = 28 + 1 + 10 + 1 + 32 + 1;
    wire [27:0] fm3;
    wire fs3, byp3, nan3;
    wire signed [9:0] fexp3;
    wire [31:0] bval3;
    pipe_reg #(.W(CC)) u_cc (.clk(clk), .rst(rst), .ce(ce[3]),
        .d({fm, fsg, fexp2, byp2, bval2, nan2}), .q({fm3, fs3, fexp3, byp3, bval3, nan3}));
    // ---- D: normalise and round
    wire [31:0] rounded;
    enc_fp32 #(.WM(28), .EW(10), .PIPE(CUT_D), .FAST(1), .NOSUB(NOSUB)) u_round (.clk(clk), .rst(rst), .ce(ce[4]),
        .sign(fs3), .mag(fm3), .lsbexp(fexp3), .code(rounded));
    wire byp4, nan4;
    wire [31:0] bval4;
    pipe_reg #(.W(34), .EN(CUT_D)) u_cd (.clk(clk), .rst(rst), .ce(ce[4]), .d({byp3, bval3, nan3}), .q({byp4, bval4, nan4}));
    assign sum = nan4 ? 32'h7fc00000 : byp4 ? bval4 : rounded;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
