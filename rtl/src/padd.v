// Parallel-prefix (Sklansky) adder: s = a + b + cin, carry out cout, in ceil(log2 W) levels of
// generate/propagate combination instead of a W-long carry chain (the deep pipeline, PIPE = 1,
// uses it on its wide additions; synthesis maps a plain "+" to a carry chain).
// The levels are computed in one function (not one continuous assignment per bit of a shared
// vector): the gates are the same, and an event simulator (Icarus) evaluates the whole adder
// once per input change instead of rippling every bit assignment through the others.
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

    // {carry out, sum}: level lv joins each bit whose bit lv of its index is set with the last
    // bit of the block below it (Sklansky); bit 0 absorbs the carry in
    function [W:0] sklansky(input [W-1:0] x, input [W-1:0] y, input c);
        reg [W-1:0] g, p, gn, pn, p0;
        reg [W-1:0] cs;
        integer lv, i;
        begin
            p0 = x ^ y;
            g = x & y;
            g[0] = g[0] | (p0[0] & c);
            p = p0;
            for (lv = 0; lv < L; lv = lv + 1) begin
                for (i = 0; i < W; i = i + 1) begin
                    if (((i >> lv) & 1) == 1) begin
                        // with the last bit of the block below, ((i >> lv) << lv) - 1
                        gn[i] = g[i] | (p[i] & g[((i >> lv) << lv) - 1]);
                        pn[i] = p[i] & p[((i >> lv) << lv) - 1];
                    end else begin
                        gn[i] = g[i];
                        pn[i] = p[i];
                    end
                end
                g = gn;
                p = pn;
            end
            // carries into each bit: the carry in, then the prefix generates below
            cs[0] = c;
            for (i = 1; i < W; i = i + 1) cs[i] = g[i-1];
            sklansky = {g[W-1], p0 ^ cs};
        end
    endfunction
    assign {cout, s} = sklansky(a, b, cin);
endmodule
