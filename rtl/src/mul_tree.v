// Unsigned product a * b as one carry-save tree (the deep pipeline,
// PIPE = 1, on its wide products): one row per bit of a (b at that bit's weight, or zero), or
// with R4 = 1 one row per two bits of a (0, b, 2b or the precomputed b3 = 3b at their weight),
// 3:2 compressed level by level to two rows ps + pc = a * b (mod 2^(WA+WB)), for the caller to
// add (padd), in the same stage or the next.  Synthesis maps a plain "*" to an array of carry
// chains, which does not fit one 10 ns stage at 24 x 24 bits and more.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: the tree's carries beyond the top bit are dropped;
// b3 is unused with R4 = 0
module mul_tree #(
    parameter integer WA = 24,          // (even with R4 = 1)
    parameter integer WB = 48,
    parameter integer R4 = 0
) (
    input  wire [WA-1:0]    a,
    input  wire [WB-1:0]    b,
    input  wire [WB+1:0]    b3,         // R4 = 1: 3 * b
    output wire [WA+WB-1:0] ps,
    output wire [WA+WB-1:0] pc
);
    localparam integer W = WA + WB;
    localparam integer NR = (R4 != 0) ? WA / 2 : WA;      // rows
    function integer nrows(input integer lvl);
        integer n, t;
        begin
            n = NR;
            for (t = 0; t < lvl; t = t + 1) n = 2 * (n / 3) + (n % 3);
            nrows = n;
        end
    endfunction
    function integer nlevels(input integer dummy);
        integer n, t;
        begin
            n = NR;
            t = dummy;
            while (n > 2) begin n = 2 * (n / 3) + (n % 3); t = t + 1; end
            nlevels = t;
        end
    endfunction
    localparam integer NL = nlevels(0);
    // level l, row r at rw[WA*l + r]: one net per row (an event simulator then wakes only a
    // row's readers when it changes, not every reader of one shared vector)
    wire [W-1:0] rw [0:WA*(NL+1)-1];
    genvar l, r;
    generate
        if (R4 != 0) begin : g_r4
            for (r = 0; r < NR; r = r + 1) begin : g_row
                wire [1:0] d = a[2*r +: 2];
                wire [W-1:0] m = (d == 2'd0) ? {W{1'b0}} : (d == 2'd1) ? {{WA{1'b0}}, b} :
                                 (d == 2'd2) ? {{(WA-1){1'b0}}, b, 1'b0} : {{(WA-2){1'b0}}, b3};
                assign rw[r] = m << (2 * r);
            end
            for (r = NR; r < WA; r = r + 1) begin : g_zr
                assign rw[r] = {W{1'b0}};
            end
        end else begin : g_r2
            for (r = 0; r < WA; r = r + 1) begin : g_row
                assign rw[r] = a[r] ? ({{WA{1'b0}}, b} << r) : {W{1'b0}};
            end
        end
        for (l = 0; l < NL; l = l + 1) begin : g_l
            localparam integer N = nrows(l);
            localparam integer NG = N / 3;
            for (r = 0; r < NG; r = r + 1) begin : g_fa
                wire [W-1:0] x = rw[WA*l + 3*r];
                wire [W-1:0] y = rw[WA*l + 3*r + 1];
                wire [W-1:0] z = rw[WA*l + 3*r + 2];
                assign rw[WA*(l+1) + 2*r] = x ^ y ^ z;
                assign rw[WA*(l+1) + 2*r + 1] = ((x & y) | (x & z) | (y & z)) << 1;
            end
            for (r = 3 * NG; r < N; r = r + 1) begin : g_pass
                assign rw[WA*(l+1) + 2*NG + r - 3*NG] = rw[WA*l + r];
            end
            for (r = nrows(l+1); r < WA; r = r + 1) begin : g_z
                assign rw[WA*(l+1) + r] = {W{1'b0}};
            end
        end
    endgenerate
    assign ps = rw[WA*NL];
    assign pc = rw[WA*NL + 1];
endmodule
/* verilator lint_on UNUSEDSIGNAL */
