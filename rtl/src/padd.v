// Parallel-prefix (Sklansky) adder: s = a + b + cin, carry out cout, in ceil(log2 W) levels of
// generate/propagate combination instead of a W-long carry chain (the deep pipeline, PIPE = 1,
// uses it on its wide additions; synthesis maps a plain "+" to a carry chain).
module padd #(
    parameter integer W = 32
) (
    input  wire [W-1:0] a,
    input  wire [W-1:0] b,
    input  wire         cin,
    output wire [W-1:0] s,
    output wire         cout
);
    function integer lg(input integer v);
        integer x;
        begin
            lg = 0;
            x = v - 1;
            while (x > 0) begin
                lg = lg + 1;
                x = x >> 1;
            end
        end
    endfunction
    localparam integer L = (W > 1) ? lg(W) : 1;
    wire [W-1:0] g0 = a & b;
    wire [W-1:0] p0 = a ^ b;
    // level lv of (g, p) at [lv*W +: W]; bit 0 absorbs the carry in
    wire [(L+1)*W-1:0] G, P;
    genvar lv, i;
    generate
        if (W > 1) begin : g_g0
            assign G[W-1:0] = {g0[W-1:1], g0[0] | (p0[0] & cin)};
        end else begin : g_g01
            assign G[0] = g0[0] | (p0[0] & cin);
        end
    endgenerate
    assign P[W-1:0] = p0;
    generate
        for (lv = 0; lv < L; lv = lv + 1) begin : g_lv
            for (i = 0; i < W; i = i + 1) begin : g_b
                if (((i >> lv) & 1) == 1) begin : g_c
                    localparam integer J = ((i >> lv) << lv) - 1;   // last bit of the block below
                    assign G[(lv+1)*W + i] = G[lv*W + i] | (P[lv*W + i] & G[lv*W + J]);
                    assign P[(lv+1)*W + i] = P[lv*W + i] & P[lv*W + J];
                end else begin : g_p
                    assign G[(lv+1)*W + i] = G[lv*W + i];
                    assign P[(lv+1)*W + i] = P[lv*W + i];
                end
            end
        end
        if (W > 1) begin : g_s
            assign s = p0 ^ {G[L*W +: W-1], cin};
        end else begin : g_s1
            assign s = p0 ^ cin;
        end
    endgenerate
    assign cout = G[L*W + W - 1];
endmodule
