// The READ of the fp32 accumulator at PIPE = 1 (docs/mac.md 4.2): the exact sum of its two FP32
// partial sums a + b as a sign, a magnitude of FW bits and the exponent of its LSB, for the
// readout to round once.  As fadd_pipe (PIPE = 1) up to its magnitude: stage 1 compares the
// exponents and aligns (ce loads its register), stage 2 forms the magnitude with prefix adders
// (combinational out).  An exponent gap above CAP folds the smaller operand's bits below the
// frame into a sticky bit: the larger operand is then at least 2^he (he: the exponent of its
// LSB), the smaller below 2^(he-CAP-1+24), so the sum is at least 2^(he-1) and the folded bits
// lie below 2^(he-CAP-1), more than 2 places under any rounding position of the outputs (FP32:
// 24 significant bits; posits: at most 14; int32: a sum below 2^31 has he <= 8).  Inf/NaN
// operands: fl reports them (1 NaN, 2 +Inf, 4 -Inf); the magnitude is then meaningless.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: the adders' carry outs and spare slice bits
module f32_sum2 #(
    parameter integer CAP = 32,
    parameter integer FW = 24 + CAP + 3     // frame width (do not override)
) (
    input  wire           clk,
    input  wire           rst,
    input  wire           ce,
    input  wire [31:0]    a,
    input  wire [31:0]    b,
    output wire [FW-1:0]  mag,
    output wire           sign,
    output wire signed [13:0] lexp,
    output wire [2:0]     fl
);
    localparam [6:0] CAP7 = CAP[6:0];
    localparam signed [14:0] CAP15 = CAP[14:0];
    // ---- stage 1: decode, compare, swap, align
    wire [7:0] ae = a[30:23], be = b[30:23];
    wire [23:0] am = {(ae != 8'd0), a[22:0]}, bm = {(be != 8'd0), b[22:0]};
    wire signed [13:0] aexp = ((ae == 8'd0) ? 14'sd1 : $signed({6'd0, ae})) - 14'sd150;
    wire signed [13:0] bexp = ((be == 8'd0) ? 14'sd1 : $signed({6'd0, be})) - 14'sd150;
    wire a_zero = (am == 24'd0), b_zero = (bm == 24'd0);
    wire [2:0] fa = (ae != 8'hff) ? 3'd0 : (a[22:0] != 23'd0) ? 3'd1 : a[31] ? 3'd4 : 3'd2;
    wire [2:0] fb = (be != 8'hff) ? 3'd0 : (b[22:0] != 23'd0) ? 3'd1 : b[31] ? 3'd4 : 3'd2;
    wire signed [14:0] ax = {aexp[13], aexp}, bx = {bexp[13], bexp};
    wire signed [14:0] dab = ax - bx, dba = bx - ax;
    wire signed [14:0] dabc = ax - bx - CAP15, dbac = bx - ax - CAP15;
    wire signed [13:0] am1 = aexp - 14'sd1, bm1 = bexp - 14'sd1;
    wire signed [13:0] amc = aexp - CAP15[13:0] - 14'sd1, bmc = bexp - CAP15[13:0] - 14'sd1;
    wire a_hi = !a_zero && (b_zero || !dab[14]);        // the operand with the larger LSB exponent
    wire [23:0] hm = a_hi ? am : bm;
    wire [23:0] lm = a_hi ? (b_zero ? 24'd0 : bm) : (a_zero ? 24'd0 : am);
    wire hs = a_hi ? a[31] : b[31];
    wire ls = a_hi ? b[31] : a[31];
    wire lmz = a_hi ? b_zero : a_zero;
    wire signed [14:0] dsel = a_hi ? dab : dba;
    wire signed [14:0] dcs = a_hi ? dabc : dbac;
    wire big = !dcs[14] && (dcs != 15'sd0);              // gap > CAP
    wire [6:0] s = lmz ? 7'd0 : big ? CAP7 : dsel[6:0];
    wire [5:0] r = (lmz || !big) ? 6'd0 : ($signed({{17{dcs[14]}}, dcs}) > 24) ? 6'd24 : dcs[5:0];   // 24: all of lm in the sticky bit
    wire signed [13:0] fexp = lmz ? (a_hi ? am1 : bm1) : big ? (a_hi ? amc : bmc) : (a_hi ? bm1 : am1);
    wire [47:0] lw = {lm, 24'd0} >> r;
    wire lsticky = |lw[23:0];
    wire [FW-1:0] hterm = {{(FW-24){1'b0}}, hm} << (s + 7'd1);
    wire [FW-1:0] lt = {{(FW-25){1'b0}}, lw[47:24], lsticky};
    wire [FW-1:0] ht1, lt1;
    wire hs1, ls1;
    pipe_reg #(.W(2 * FW + 2 + 14 + 3)) u_c1 (.clk(clk), .rst(rst), .ce(ce),
        .d({hterm, lt, hs, ls, fexp, fa | fb}), .q({ht1, lt1, hs1, ls1, lexp, fl}));
    // ---- stage 2: |(-1)^hs ht + (-1)^ls lt| and its sign (the sum, or the non-negative difference)
    wire [FW-1:0] sum_w, d_hl, d_lh;
    wire co_s, ge, co_lh;
    padd #(.W(FW)) u_sum (.a(ht1), .b(lt1), .cin(1'b0), .s(sum_w), .cout(co_s));
    padd #(.W(FW)) u_dhl (.a(ht1), .b(~lt1), .cin(1'b1), .s(d_hl), .cout(ge));
    padd #(.W(FW)) u_dlh (.a(lt1), .b(~ht1), .cin(1'b1), .s(d_lh), .cout(co_lh));
    wire sub = hs1 ^ ls1;
    assign mag = !sub ? sum_w : ge ? d_hl : d_lh;
    assign sign = (!sub || ge) ? hs1 : ls1;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
