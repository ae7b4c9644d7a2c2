// Leading-zero count of an N-bit word (N when the word is zero).  Two levels for a short path:
// 8-bit groups count locally, and a priority select over the groups picks the first nonzero one.
module lzc #(
    parameter N = 32,
    parameter CW = 8
) (
    input  wire [N-1:0]  x,
    output reg  [CW-1:0] n
);
    localparam G = (N + 7) / 8;                  // groups of 8 bits, from the top
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: only the top 8*G bits of cat are used
    wire [8*G+N-1:0] cat = {x, {(8*G){1'b0}}};
    wire [8*G-1:0] xp = cat[8*G+N-1 -: 8*G];           // left aligned, zero padded below
    /* verilator lint_on UNUSEDSIGNAL */
    reg  [G-1:0] any;
    reg  [3*G-1:0] loc;                         // leading zeros inside each group (0..7)
    integer g, b;
    reg [7:0] grp;
    reg found;
    always @* begin
        for (g = 0; g < G; g = g + 1) begin
            grp = xp[8*G-1-8*g -: 8];
            any[g] = |grp;
            loc[3*g +: 3] = 3'd7;
            for (b = 0; b < 7; b = b + 1)
                if (grp[b + 1]) loc[3*g +: 3] = 3'd6 - b[2:0];
        end
        n = N[CW-1:0];                            // all zeros
        found = 1'b0;
        for (g = 0; g < G; g = g + 1)
            if (!found && any[g]) begin
                n = (g[CW-1:0] << 3) + {{(CW-3){1'b0}}, loc[3*g +: 3]};
                found = 1'b1;
            end
    end
endmodule
