// MX running sum (docs/mac.md 4.4): acc32 <- RNE_fp32(acc32 + S * 2^(lsb2 + (sa-127) + (sb-127)))
// per closed block, and the READ of it.  Operations come from stage s5 (ld[k]: the beat in
// stage k moves on; fadd_pipe takes five stages):
//   add  (close a block): the close adder reads acc32 in stage 5 and writes it in stage 9;
//   clr  (CLEAR): acc32 <- +0 in stage 9, in order with the adds;
//   rdo / rdc (READ with / without an open block): the READ waits four stages, so that in stage
//        9 acc32 holds every block closed before it and nothing after it; the read adder then
//        adds the open block (rdo) or passes acc32 (rdc) in stages 9 to 13.
// A block has >= 8 words, so a close never reads acc32 before the previous close wrote it.
// A NaN scale (E8M0 0xFF) gives NaN; Inf/NaN in acc32 stay; an exact zero sum is +0; a NaN
// result reads out as the canonical 0x7fc00000.
module mx_acc #(
    parameter integer PIPE = 0      // 1: the deep pipeline's adders (fadd_pipe PIPE = 1)
) (
    input  wire               clk,
    input  wire               rst,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: stages 5 to 12 only
    input  wire [13:1]        ld,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire               add,
    input  wire               rdo,
    input  wire               rdc,
    input  wire               clr,
    input  wire signed [20:0] bsum,
    input  wire [7:0]         sa,
    input  wire [7:0]         sb,
    input  wire signed [9:0]  lsb2,
    output wire [31:0]        ry        // the READ's result in stage 13 (PIPE = 1: NaN not canonical)
);
    reg  [31:0] acc32;
    // ---- close adder
    wire        xs = bsum[20];
    wire [20:0] xm = xs ? -bsum : bsum;      // |-2^20| = 2^20 still fits in 21 bits
    wire signed [11:0] xexp = $signed({{2{lsb2[9]}}, lsb2}) + $signed({4'd0, sa}) + $signed({4'd0, sb}) - 12'sd254;
    wire nan_scale = (sa == 8'hff) || (sb == 8'hff);
    wire [31:0] csum;
    fadd_pipe #(.MW(21), .EW(12), .PIPE(PIPE)) u_close (.clk(clk), .rst(rst), .ce(ld[8:5]), .acc(acc32), .xs(xs),
        .xm(xm), .xexp(xexp), .nan(nan_scale), .pass(1'b0), .sum(csum));
    wire [1:0] cop6, cop7, cop8, cop9;          // {clr, add} of stages 6..9
    pipe_reg #(.W(2)) u_o6 (.clk(clk), .rst(rst), .ce(ld[5]), .d({clr, add}), .q(cop6));
    pipe_reg #(.W(2)) u_o7 (.clk(clk), .rst(rst), .ce(ld[6]), .d(cop6), .q(cop7));
    pipe_reg #(.W(2)) u_o8 (.clk(clk), .rst(rst), .ce(ld[7]), .d(cop7), .q(cop8));
    pipe_reg #(.W(2)) u_o9 (.clk(clk), .rst(rst), .ce(ld[8]), .d(cop8), .q(cop9));
    always @(posedge clk) begin
        if (rst) acc32 <= 32'd0;
        else if (ld[9] && cop9[1]) acc32 <= 32'd0;
        else if (ld[9] && cop9[0]) acc32 <= csum;
    end
    // ---- READ: four stages of delay, then the read adder
    localparam RW = 2 + 21 + 8 + 8 + 10;
    wire [RW-1:0] r6, r7, r8, r9;
    pipe_reg #(.W(RW)) u_r6 (.clk(clk), .rst(rst), .ce(ld[5]), .d({rdo, rdc, bsum, sa, sb, lsb2}), .q(r6));
    pipe_reg #(.W(RW)) u_r7 (.clk(clk), .rst(rst), .ce(ld[6]), .d(r6), .q(r7));
    pipe_reg #(.W(RW)) u_r8 (.clk(clk), .rst(rst), .ce(ld[7]), .d(r7), .q(r8));
    pipe_reg #(.W(RW)) u_r9 (.clk(clk), .rst(rst), .ce(ld[8]), .d(r8), .q(r9));
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: rdo is implied (a READ that is not rdc)
    wire rdo9 = r9[RW-1];
    /* verilator lint_on UNUSEDSIGNAL */
    wire rdc9 = r9[RW-2];
    wire signed [20:0] rsum = r9[RW-3 -: 21];
    wire [7:0] rsa = r9[RW-24 -: 8], rsb = r9[RW-32 -: 8];
    wire signed [9:0] rl = r9[9:0];
    wire        rxs = rsum[20];
    wire [20:0] rxm = rxs ? -rsum : rsum;
    wire signed [11:0] rxexp = $signed({{2{rl[9]}}, rl}) + $signed({4'd0, rsa}) + $signed({4'd0, rsb}) - 12'sd254;
    wire rnan = !rdc9 && ((rsa == 8'hff) || (rsb == 8'hff));
    wire [31:0] r;
    fadd_pipe #(.MW(21), .EW(12), .PIPE(PIPE)) u_read (.clk(clk), .rst(rst), .ce(ld[12:9]), .acc(acc32), .xs(rxs),
        .xm(rxm), .xexp(rxexp), .nan(rnan), .pass(rdc9), .sum(r));
    // PIPE = 1: ry is the sum as it is; the lane registers it (s15) and makes a NaN canonical
    // after that register, off the rounding's path
    generate
        if (PIPE != 0) begin : g_raw
            assign ry = r;
        end else begin : g_canon
            assign ry = (r[30:23] == 8'hff && r[22:0] != 0) ? 32'h7fc00000 : r;
        end
    endgenerate
endmodule
