// nv_acc for the deep pipeline (PIPE = 1): the same results and READ timing (the result in
// stage 13 of nv_acc's numbering), the work spread so that every stage fits 10 ns:
//   s5      the block term x = S * u_a * u_b * 2^-2 (exact: < 2^19 units of 2^-20..2^8) and the
//           leading-zero count that normalises it (one step shared by closes and READs)
//   close   fadd_std in s6 to s8 (normalise x, compare and align; add; normalise and round):
//           acc32 read in s6, written in s8 (a three-stage loop; blocks are 4 words apart)
//   READ    waits s6, s7; s8 to s10: the open block added (fadd_std; acc32 holds every block
//           closed before the READ in s8); s11: acc * P as a carry-save pair (mul_tree, radix
//           4, 3P formed in s10); s12: the pair added, normalised by one place at most, the
//           rounding's exponent and sticky bit (enc_fp32's front half, the exponent values
//           formed for both places beside the addition, the zero test from s11); s13: one RNE
//           rounding (enc_fp32's back half); the lane registers the result once more (s15)
//   P       = S_A * S_B: s2 decode, s3 carry-save product, s4 added, s5 normalised (msb set),
//           then carried to s11
// Every addend, and so every sum, is a multiple of 2^-20 (docs/mac.md 4.5): acc32 and the read
// sum are never subnormal (fadd_std NOSUB), so acc * P, with P normalised, has its leading one
// in bit 71 or 70.
module nv_deep (
    input  wire               clk,
    input  wire               rst,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: stages 1 to 12 only
    input  wire [13:1]        ld,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [1:0]         op1,
    input  wire [3:0]         md1,
    input  wire [15:0]        a1,
    input  wire [15:0]        b1,
    input  wire               add,
    input  wire               rdo,
    input  wire               rdc,
    input  wire               clr,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: a block sum has at most 12 magnitude bits
    input  wire signed [20:0] bsum,
    input  wire [7:0]         sa,       // UE4M3 codes (bit 7 ignored)
    input  wire [7:0]         sb,
    /* verilator lint_on UNUSEDSIGNAL */
    output wire [31:0]        ry
);
    localparam OP_CLEAR = 2'd1, OP_READ = 2'd2, M_NV = 4'd10;
    // ---- s5: the block term and its leading-zero count
    wire        xs = bsum[20];
    wire [11:0] bm = xs ? -bsum[11:0] : bsum[11:0];          // |S| <= 2304
    wire [3:0]  ua = {sa[6:3] != 4'd0, sa[2:0]}, ub = {sb[6:3] != 4'd0, sb[2:0]};
    wire signed [9:0] xexp = ((sa[6:3] == 4'd0) ? 10'sd1 : $signed({6'd0, sa[6:3]}))
                           + ((sb[6:3] == 4'd0) ? 10'sd1 : $signed({6'd0, sb[6:3]})) - 10'sd22;
    wire [7:0]  uab = {4'd0, ua} * {4'd0, ub};
    wire [19:0] xm = {8'd0, bm} * {12'd0, uab};              // < 2^19
    wire [4:0]  lz;
    lzc #(.N(24), .CW(5)) u_lzx (.x({4'd0, xm}), .n(lz));
    wire        xzero = (bm == 12'd0) || (ua == 4'd0) || (ub == 4'd0);
    wire        xnan = (sa[6:0] == 7'h7f) || (sb[6:0] == 7'h7f);
    localparam XW = 1 + 20 + 5 + 10 + 1 + 1;                 // {xs, xm, lz, xexp, xzero, xnan}
    wire [XW-1:0] x6;
    wire [3:0] op6;                                           // {clr, add, rdo, rdc}
    pipe_reg #(.W(XW + 4)) u_x6 (.clk(clk), .rst(rst), .ce(ld[5]),
        .d({xs, xm, lz, xexp, xzero, xnan, clr, add, rdo, rdc}), .q({x6, op6}));
    // ---- close: s6 to s8
    reg  [31:0] acc32;
    wire [31:0] csum;
    fadd_std #(.NOSUB(1)) u_close (.clk(clk), .rst(rst), .ce({1'b0, ld[7:6], 1'b0}), .acc(acc32),
        .xs(x6[XW-1]), .xsig({4'd0, x6[XW-2 -: 20]}), .xlz(x6[16:12]), .xexp(x6[11:2]), .xzero(x6[1]),
        .nan(x6[0]), .pass(1'b0), .sum(csum));
    wire [1:0] cop7, cop8;                       // {clr, add} of stages 7, 8
    pipe_reg #(.W(2)) u_o7 (.clk(clk), .rst(rst), .ce(ld[6]), .d(op6[3:2]), .q(cop7));
    pipe_reg #(.W(2)) u_o8 (.clk(clk), .rst(rst), .ce(ld[7]), .d(cop7), .q(cop8));
    always @(posedge clk) begin
        if (rst) acc32 <= 32'd0;
        else if (ld[8] && cop8[1]) acc32 <= 32'd0;
        else if (ld[8] && cop8[0]) acc32 <= csum;
    end
    // ---- READ: two stages of delay, the read adder in s8 to s10
    wire [XW+1:0] r7, r8;                        // {x, rdo, rdc}
    pipe_reg #(.W(XW + 2)) u_r7 (.clk(clk), .rst(rst), .ce(ld[6]), .d({x6, op6[1:0]}), .q(r7));
    pipe_reg #(.W(XW + 2)) u_r8 (.clk(clk), .rst(rst), .ce(ld[7]), .d(r7), .q(r8));
    wire rdc8 = r8[0];
    wire [31:0] r;
    fadd_std #(.NOSUB(1)) u_read (.clk(clk), .rst(rst), .ce({1'b0, ld[9:8], 1'b0}), .acc(acc32),
        .xs(r8[XW+1]), .xsig({4'd0, r8[XW -: 20]}), .xlz(r8[18:14]), .xexp(r8[13:4]), .xzero(r8[3]),
        .nan(r8[2] && !rdc8), .pass(rdc8), .sum(r));
    wire rd9, rd10, rd11, rd12;                  // READs in s9 to s12
    pipe_reg #(.W(1)) u_d9 (.clk(clk), .rst(rst), .ce(ld[8]), .d(r8[1] | r8[0]), .q(rd9));
    pipe_reg #(.W(1)) u_d10 (.clk(clk), .rst(rst), .ce(ld[9]), .d(rd9), .q(rd10));
    pipe_reg #(.W(1)) u_d11 (.clk(clk), .rst(rst), .ce(ld[10]), .d(rd10), .q(rd11));
    pipe_reg #(.W(1)) u_d12 (.clk(clk), .rst(rst), .ce(ld[11]), .d(rd11), .q(rd12));
    wire [31:0] r11;
    pipe_reg #(.W(32)) u_s11 (.clk(clk), .rst(rst), .ce(ld[10] & rd10), .d(r), .q(r11));

    // ---- tensor scales: low halves on CLEAR (tlo), high halves on READ
    reg [31:0] tlo;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the sign bits (scales are positive)
    reg [31:0] ta2, tb2;
    /* verilator lint_on UNUSEDSIGNAL */
    always @(posedge clk) begin
        if (rst) begin
            tlo <= 32'd0; ta2 <= 32'd0; tb2 <= 32'd0;
        end else if (ld[1] && md1 == M_NV) begin
            if (op1 == OP_CLEAR) tlo <= {b1, a1};
            if (op1 == OP_READ) begin
                ta2 <= {a1, tlo[15:0]};
                tb2 <= {b1, tlo[31:16]};
            end
        end
    end
    // s2: decode
    wire [23:0] ma = {ta2[30:23] != 8'd0, ta2[22:0]}, mb = {tb2[30:23] != 8'd0, tb2[22:0]};
    wire signed [11:0] ea = ((ta2[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, ta2[30:23]})) - 12'sd150;
    wire signed [11:0] eb = ((tb2[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, tb2[30:23]})) - 12'sd150;
    wire [23:0] ma3, mb3;
    wire signed [11:0] pe3;
    pipe_reg #(.W(60)) u_p3 (.clk(clk), .rst(rst), .ce(ld[2]), .d({ma, mb, ea + eb}), .q({ma3, mb3, pe3}));
    // s3: the product as a carry-save pair; s4: added
    wire [47:0] pms, pmc;
    mul_tree #(.WA(24), .WB(24)) u_pm (.a(ma3), .b(mb3), .b3(26'd0), .ps(pms), .pc(pmc));
    wire [47:0] pms4, pmc4;
    wire signed [11:0] pe4;
    pipe_reg #(.W(108)) u_p4 (.clk(clk), .rst(rst), .ce(ld[3]), .d({pms, pmc, pe3}), .q({pms4, pmc4, pe4}));
    wire [47:0] pm;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the carries out (the sums fit)
    wire pco, prco;
    /* verilator lint_on UNUSEDSIGNAL */
    padd #(.W(48)) u_pma (.a(pms4), .b(pmc4), .cin(1'b0), .s(pm), .cout(pco));
    wire [47:0] pm5;
    wire signed [11:0] pe5;
    pipe_reg #(.W(60)) u_p5 (.clk(clk), .rst(rst), .ce(ld[4]), .d({pm, pe4}), .q({pm5, pe5}));
    // s5: normalised (positive scales: pm5 != 0)
    wire [5:0] plz;
    lzc #(.N(48), .CW(6)) u_lzp (.x(pm5), .n(plz));
    wire [47:0] pn = pm5 << plz;
    wire signed [11:0] pne = pe5 - $signed({6'd0, plz});     // exponent of pn's lsb
    // P travels with the READ from s6 to s10; s10 adds 3P for the radix-4 product
    wire [59:0] pp [6:10];
    pipe_reg #(.W(60)) u_p6 (.clk(clk), .rst(rst), .ce(ld[5]), .d({pn, pne}), .q(pp[6]));
    genvar k;
    generate
        for (k = 7; k <= 10; k = k + 1) begin : g_p
            pipe_reg #(.W(60)) u_p (.clk(clk), .rst(rst), .ce(ld[k-1]), .d(pp[k-1]), .q(pp[k]));
        end
    endgenerate
    wire [49:0] p3 = {2'd0, pp[10][59:12]} + {1'd0, pp[10][59:12], 1'b0};
    wire [47:0] p11m;
    wire [49:0] p11m3;
    wire signed [11:0] p11e;
    pipe_reg #(.W(110)) u_p11 (.clk(clk), .rst(rst), .ce(ld[10]), .d({pp[10], p3}), .q({p11m, p11e, p11m3}));
    // ---- s11: acc * P exactly (72 bits) as a carry-save pair; s12: added
    wire        snan = (r11[30:23] == 8'hff) && (r11[22:0] != 23'd0);
    wire        sinf = (r11[30:23] == 8'hff) && (r11[22:0] == 23'd0);
    wire [23:0] am = {r11[30:23] != 8'd0, r11[22:0]};
    wire signed [11:0] ae = ((r11[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, r11[30:23]})) - 12'sd150;
    wire [71:0] prs, prc;
    mul_tree #(.WA(24), .WB(48), .R4(1)) u_prod (.a(am), .b(p11m), .b3(p11m3), .ps(prs), .pc(prc));
    wire [71:0] prs12, prc12;
    wire signed [11:0] pexp12;
    wire sg12, nan12, inf12, zero12;
    // the product is zero exactly when acc or P is (both are naturals): known in s11, so the
    // rounding's zero test does not wait for the s12 addition
    wire zero11 = (r11[30:0] == 31'd0) || (p11m == 48'd0);
    pipe_reg #(.W(144 + 12 + 4)) u_s12 (.clk(clk), .rst(rst), .ce(ld[11] & rd11),
        .d({prs, prc, ae + p11e, r11[31], snan, sinf, zero11}), .q({prs12, prc12, pexp12, sg12, nan12, inf12, zero12}));
    wire [71:0] prod;
    padd #(.W(72)) u_pra (.a(prs12), .b(prc12), .cin(1'b0), .s(prod), .cout(prco));
    // normalised by one place at most, and enc_fp32's normalising half (WM = 72, NORM, not NOSUB:
    // acc * P may be subnormal), with every exponent value formed for both places from pexp12
    // beside the addition and selected by the sum's msb: biased exponent of the leading one
    // pexp12 + 71 + 127 (msb set) or one less; the cut is the s13 register, the rounding s13
    wire        n1 = prod[71];
    wire signed [14:0] bh = $signed({{3{pexp12[11]}}, pexp12}) + 15'sd198;   // msb in bit 71
    wire signed [14:0] bl = $signed({{3{pexp12[11]}}, pexp12}) + 15'sd197;   // msb in bit 70
    wire signed [14:0] rh = 15'sd1 - bh, rl = 15'sd1 - bl;
    wire [4:0]  rsh = (bh >= 15'sd1) ? 5'd0 : (rh > 15'sd26) ? 5'd26 : rh[4:0];
    wire [4:0]  rsl = (bl >= 15'sd1) ? 5'd0 : (rl > 15'sd26) ? 5'd26 : rl[4:0];
    wire [7:0]  efh = (bh >= 15'sd1) ? bh[7:0] : 8'd0;
    wire [7:0]  efl = (bl >= 15'sd1) ? bl[7:0] : 8'd0;
    wire        ovh = (bh >= 15'sd255), ovl = (bl >= 15'sd255);
    wire [25:0] top_d = n1 ? prod[71:46] : prod[70:45];                  // 24 bits + guard + one more
    wire        lst_d = (|prod[44:0]) | (n1 & prod[45]);
    wire [25:0] top;
    wire [4:0]  rsq;
    wire [7:0]  ef;
    wire        lst, ovf, zero13, sg13, nan13, inf13;
    pipe_reg #(.W(26 + 1 + 5 + 8 + 1 + 4)) u_s13 (.clk(clk), .rst(rst), .ce(ld[12] & rd12),
        .d({top_d, lst_d, n1 ? rsh : rsl, n1 ? efh : efl, n1 ? ovh : ovl, zero12, sg12, nan12, inf12}),
        .q({top, lst, rsq, ef, ovf, zero13, sg13, nan13, inf13}));
    // ---- s13: one RNE rounding (enc_fp32's rounding half, FAST)
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the leading one's bit (it is in ef)
    wire [51:0] shf = {top, 26'd0} >> rsq;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [22:0] mant = shf[50:28];                                       // the leading one is in ef
    wire        guard = shf[27];
    wire        sticky = (|shf[26:0]) | lst;
    wire        rup = guard & (mant[0] | sticky);
    wire [30:0] q;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: q never carries out (ef <= 254)
    wire        qco;
    /* verilator lint_on UNUSEDSIGNAL */
    padd #(.W(31)) u_inc (.a({ef, mant[22:0]}), .b(31'd0), .cin(rup), .s(q), .cout(qco));
    wire [31:0] code = zero13 ? 32'd0 : (ovf || (&q[30:23])) ? {sg13, 8'hff, 23'd0} : {sg13, q};
    assign ry = nan13 ? 32'h7fc00000 : inf13 ? {sg13, 31'h7f800000} : code;
endmodule
