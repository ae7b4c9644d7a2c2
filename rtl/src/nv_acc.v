// NVFP4 running sum and readout (docs/mac.md 4.5), one lane:
//   per closed block   acc32 <- RNE_fp32(acc32 + S * u_a * u_b * 2^-2)   (S: exact block sum,
//                      u = m * 2^e the UE4M3 scales: m = {E != 0, M}, e = max(E, 1) - 10)
//   READ               y = RNE_fp32(RNE_fp32(acc32 + open block) * S_A * S_B)
// Operations come from stage s5 as in mx_acc (the lane's MX block logic counts nvfp4's 4-word
// blocks); blocks are 4 words apart, so the close adder is a four-stage loop (fadd_pipe4: acc32
// is read in s5 and written in s8).  A READ waits three stages (in s8 acc32 holds every block
// closed before it), adds the open block in s8 to s11 (or passes acc32), multiplies by the
// exact product P = S_A * S_B in s12 (24 x 48 bits) and rounds once in s13 (enc_fp32).
// The tensor scales ride on the operand words: the CLEAR beat's a/b words are the low halves of
// S_A/S_B (kept in tlo), the READ beat's the high halves; P is formed in s2 and travels with
// the READ to s12 (loaded by READs only, so it holds still between them).  NaN scale code 0x7F: the block, and the sum until CLEAR, is NaN; a NaN
// result is 0x7fc00000; S_A, S_B must be positive finite (other words: unspecified).
module nv_acc #(
    parameter integer PIPE = 0      // 1: the deep pipeline's adders (fadd_pipe4 PIPE = 1)
) (
    input  wire               clk,
    input  wire               rst,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: stages 1 to 12 only
    input  wire [13:1]        ld,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [1:0]         op1,      // stage 1: op, mode and operand words of the beat
    input  wire [3:0]         md1,
    input  wire [15:0]        a1,
    input  wire [15:0]        b1,
    input  wire               add,      // stage 5: close a block / READ with (rdo) or without
    input  wire               rdo,      //   (rdc) an open block / CLEAR
    input  wire               rdc,
    input  wire               clr,
    input  wire signed [20:0] bsum,
    input  wire [7:0]         sa,       // UE4M3 codes (bit 7 ignored)
    input  wire [7:0]         sb,
    output wire [31:0]        ry        // the READ's result in stage 13
);
    localparam OP_CLEAR = 2'd1, OP_READ = 2'd2, M_NV = 4'd10;
    // ---- the block term of (S, codes): x = (-1)^xs * xm * 2^xexp, exact (20-bit magnitude)
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: bit 7 of a code, and uexp's mantissa bits
    function [3:0] usig(input [7:0] c);
        usig = {c[6:3] != 4'd0, c[2:0]};
    endfunction
    function signed [11:0] uexp(input [7:0] c);       // the exponent of usig's lsb
        uexp = ((c[6:3] == 4'd0) ? 12'sd1 : $signed({8'd0, c[6:3]})) - 12'sd10;
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    reg  [31:0] acc32;
    wire        xs = bsum[20];
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: a block sum has at most 12 magnitude bits
    wire [20:0] bm = xs ? -bsum : bsum;
    wire [20:0] rbm;
    /* verilator lint_on UNUSEDSIGNAL */
    // |S| <= 16 * 12 * 12 = 2304 (12 bits); times the two 4-bit significands: 20 bits
    wire [20:0] xm = {9'd0, bm[11:0]} * {17'd0, usig(sa)} * {17'd0, usig(sb)};
    wire signed [11:0] xexp = uexp(sa) + uexp(sb) - 12'sd2;
    wire nan_scale = (sa[6:0] == 7'h7f) || (sb[6:0] == 7'h7f);
    // ---- close adder: reads acc32 in s5, acc32 written in s8
    wire [31:0] csum;
    fadd_pipe4 #(.MW(21), .EW(12), .PIPE(PIPE)) u_close (.clk(clk), .rst(rst), .ce(ld[7:5]), .acc(acc32), .xs(xs),
        .xm(xm), .xexp(xexp), .nan(nan_scale), .pass(1'b0), .sum(csum));
    wire [1:0] cop6, cop7, cop8;                 // {clr, add} of stages 6..8
    pipe_reg #(.W(2)) u_o6 (.clk(clk), .rst(rst), .ce(ld[5]), .d({clr, add}), .q(cop6));
    pipe_reg #(.W(2)) u_o7 (.clk(clk), .rst(rst), .ce(ld[6]), .d(cop6), .q(cop7));
    pipe_reg #(.W(2)) u_o8 (.clk(clk), .rst(rst), .ce(ld[7]), .d(cop7), .q(cop8));
    always @(posedge clk) begin
        if (rst) acc32 <= 32'd0;
        else if (ld[8] && cop8[1]) acc32 <= 32'd0;
        else if (ld[8] && cop8[0]) acc32 <= csum;
    end
    // ---- READ: three stages of delay, then the read adder (s8 to s11)
    localparam RW = 2 + 21 + 8 + 8;
    wire [RW-1:0] r6, r7, r8;
    pipe_reg #(.W(RW)) u_r6 (.clk(clk), .rst(rst), .ce(ld[5]), .d({rdo, rdc, bsum, sa, sb}), .q(r6));
    pipe_reg #(.W(RW)) u_r7 (.clk(clk), .rst(rst), .ce(ld[6]), .d(r6), .q(r7));
    pipe_reg #(.W(RW)) u_r8 (.clk(clk), .rst(rst), .ce(ld[7]), .d(r7), .q(r8));
    wire rdc8 = r8[RW-2];
    wire signed [20:0] rsum = r8[RW-3 -: 21];
    wire [7:0] rsa = r8[15:8], rsb = r8[7:0];
    wire        rxs = rsum[20];
    assign rbm = rxs ? -rsum : rsum;
    wire [20:0] rxm = {9'd0, rbm[11:0]} * {17'd0, usig(rsa)} * {17'd0, usig(rsb)};
    wire signed [11:0] rxexp = uexp(rsa) + uexp(rsb) - 12'sd2;
    wire rnan = !rdc8 && ((rsa[6:0] == 7'h7f) || (rsb[6:0] == 7'h7f));
    wire [31:0] r;
    fadd_pipe4 #(.MW(21), .EW(12), .PIPE(PIPE)) u_read (.clk(clk), .rst(rst), .ce(ld[10:8]), .acc(acc32), .xs(rxs),
        .xm(rxm), .xexp(rxexp), .nan(rnan), .pass(rdc8), .sum(r));
    // which beats are READs (s9 to s12): the multiplier's registers load only for them, so the
    // multipliers do not toggle on the other beats
    wire rd9, rd10, rd11, rd12;
    pipe_reg #(.W(1)) u_d9 (.clk(clk), .rst(rst), .ce(ld[8]), .d(r8[RW-1] | r8[RW-2]), .q(rd9));
    pipe_reg #(.W(1)) u_d10 (.clk(clk), .rst(rst), .ce(ld[9]), .d(rd9), .q(rd10));
    pipe_reg #(.W(1)) u_d11 (.clk(clk), .rst(rst), .ce(ld[10]), .d(rd10), .q(rd11));
    pipe_reg #(.W(1)) u_d12 (.clk(clk), .rst(rst), .ce(ld[11]), .d(rd11), .q(rd12));
    wire [31:0] r12;
    pipe_reg #(.W(32)) u_s12 (.clk(clk), .rst(rst), .ce(ld[11] & rd11), .d(r), .q(r12));

    // ---- tensor scales: low halves on CLEAR (tlo), high halves on READ; P = S_A * S_B in s2
    reg [31:0] tlo;                           // {b, a} words of the last nvfp4 CLEAR
    reg [31:0] ta2, tb2;
    always @(posedge clk) begin
        if (rst) begin
            tlo <= 32'd0; ta2 <= 32'd0; tb2 <= 32'd0;
        end else if (ld[1] && md1 == M_NV) begin
            // loaded by nvfp4 READs only: P and its pipeline hold still on the other beats
            if (op1 == OP_CLEAR) tlo <= {b1, a1};
            if (op1 == OP_READ) begin
                ta2 <= {a1, tlo[15:0]};
                tb2 <= {b1, tlo[31:16]};
            end
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the sign bits (scales are positive)
    wire [31:0] ta = ta2, tb = tb2;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [23:0] ma = {ta[30:23] != 8'd0, ta[22:0]}, mb = {tb[30:23] != 8'd0, tb[22:0]};
    wire signed [11:0] ea = ((ta[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, ta[30:23]})) - 12'sd150;
    wire signed [11:0] eb = ((tb[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, tb[30:23]})) - 12'sd150;
    wire [47:0] pm = ma * mb;
    wire signed [11:0] pe = ea + eb;          // exponent of pm's lsb, in [-298, 208]
    // P travels with the READ from s3 to s12
    wire [59:0] pp [3:12];
    pipe_reg #(.W(60)) u_p3 (.clk(clk), .rst(rst), .ce(ld[2]), .d({pm, pe}), .q(pp[3]));
    genvar k;
    generate
        for (k = 4; k <= 12; k = k + 1) begin : g_p
            pipe_reg #(.W(60)) u_p (.clk(clk), .rst(rst), .ce(ld[k-1]), .d(pp[k-1]), .q(pp[k]));
        end
    endgenerate
    // ---- s12: acc * P exactly (72 bits); s13: one RNE rounding to FP32
    wire [47:0] p12m = pp[12][59:12];
    wire signed [11:0] p12e = pp[12][11:0];
    wire        snan = (r12[30:23] == 8'hff) && (r12[22:0] != 23'd0);
    wire        sinf = (r12[30:23] == 8'hff) && (r12[22:0] == 23'd0);
    wire [23:0] am = {r12[30:23] != 8'd0, r12[22:0]};
    wire signed [11:0] ae = ((r12[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, r12[30:23]})) - 12'sd150;
    wire [71:0] prod = am * p12m;
    wire signed [11:0] pexp = ae + p12e;      // in [-447, 312]
    wire [71:0] prod13;
    wire signed [11:0] pexp13;
    wire sg13, nan13, inf13;
    pipe_reg #(.W(72 + 12 + 3)) u_s13 (.clk(clk), .rst(rst), .ce(ld[12] & rd12),
        .d({prod, pexp, r12[31], snan, sinf}), .q({prod13, pexp13, sg13, nan13, inf13}));
    wire [31:0] code;
    enc_fp32 #(.WM(72), .EW(12), .PIPE(0), .FAST(PIPE)) u_round (.clk(clk), .rst(rst), .ce(1'b0), .sign(sg13),
        .mag(prod13), .lsbexp(pexp13), .code(code));
    // PIPE = 1: nv_deep does all of the above over stages that fit the deep pipeline's clock
    // (the logic above is then unused, and removed by synthesis)
    /* verilator lint_off UNDRIVEN */  // waiver: driven by g_deep only (PIPE = 1); PIPE = 0 does not read it
    wire [31:0] ry_deep;
    /* verilator lint_on UNDRIVEN */
    generate
        if (PIPE != 0) begin : g_deep
            nv_deep u_deep (.clk(clk), .rst(rst), .ld(ld), .op1(op1), .md1(md1), .a1(a1), .b1(b1),
                .add(add), .rdo(rdo), .rdc(rdc), .clr(clr), .bsum(bsum), .sa(sa), .sb(sb), .ry(ry_deep));
        end
    endgenerate
    assign ry = (PIPE != 0) ? ry_deep : nan13 ? 32'h7fc00000 : inf13 ? {sg13, 31'h7f800000} : code;
endmodule
