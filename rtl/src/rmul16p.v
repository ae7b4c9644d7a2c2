// rmul16 over two pipeline stages (the deep pipeline, PIPE = 1): the masked 4 x 4 partial
// products are registered (ce), then summed by a carry-save tree and one prefix adder.  Same
// products and layout as rmul16 (see there), one cycle later.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: the tree's top carries beyond bit 31 are dropped
module rmul16p #(
    parameter integer KMASK = 7
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        ce,
    input  wire [15:0] a,
    input  wire [15:0] b,
    input  wire [1:0]  kmode,
    output wire [31:0] p
);
    wire [1:0] km = (KMASK == 1) ? 2'd0 : (KMASK == 2) ? 2'd1 : (KMASK == 4) ? 2'd2 : kmode;
    // ---- stage 1: partial products pp(i, j) = a_i * b_j, zero where the split masks them
    wire [127:0] pp;
    genvar i, j;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_i
            for (j = 0; j < 4; j = j + 1) begin : g_j
                wire keep = (km == 2'd2) || (km == 2'd1 && (i >> 1) == (j >> 1)) || (i == j);
                assign pp[8*(4*i+j) +: 8] = keep ? ({4'd0, a[4*i +: 4]} * {4'd0, b[4*j +: 4]}) : 8'd0;
            end
        end
    endgenerate
    wire [127:0] ppq;
    pipe_reg #(.W(128), .EN(1)) u_pp (.clk(clk), .rst(rst), .ce(ce), .d(pp), .q(ppq));
    // ---- stage 2: 16 rows at their weights, 3:2 compressed level by level to two, one adder
    function integer nrows(input integer lvl);
        integer n, t;
        begin
            n = 16;
            for (t = 0; t < lvl; t = t + 1) n = 2 * (n / 3) + (n % 3);
            nrows = n;
        end
    endfunction
    localparam integer NL = 6;                  // 16 11 8 6 4 3 2
    wire [31:0] rw [0:16*(NL+1)-1];             // level l, row r at rw[16*l + r] (one net per row)
    genvar l, r;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g_ri
            for (j = 0; j < 4; j = j + 1) begin : g_rj
                assign rw[4*i+j] = {24'd0, ppq[8*(4*i+j) +: 8]} << (4 * (i + j));
            end
        end
        for (l = 0; l < NL; l = l + 1) begin : g_l
            localparam integer N = nrows(l);
            localparam integer NG = N / 3;
            for (r = 0; r < NG; r = r + 1) begin : g_fa
                wire [31:0] x = rw[16*l + 3*r];
                wire [31:0] y = rw[16*l + 3*r + 1];
                wire [31:0] z = rw[16*l + 3*r + 2];
                assign rw[16*(l+1) + 2*r] = x ^ y ^ z;
                assign rw[16*(l+1) + 2*r + 1] = ((x & y) | (x & z) | (y & z)) << 1;
            end
            for (r = 3 * NG; r < N; r = r + 1) begin : g_pass
                assign rw[16*(l+1) + 2*NG + r - 3*NG] = rw[16*l + r];
            end
            for (r = nrows(l+1); r < 16; r = r + 1) begin : g_z
                assign rw[16*(l+1) + r] = 32'd0;
            end
        end
    endgenerate
    generate
    endgenerate
    wire co;
    padd #(.W(32)) u_add (.a(rw[16*NL]), .b(rw[16*NL + 1]), .cin(1'b0), .s(p), .cout(co));
endmodule
/* verilator lint_on UNUSEDSIGNAL */
