// Unpacks the reconfigurable multiplier's packed products into four 26-bit slot magnitudes
// (4-way: 4 x 8 bits, 2-way: 2 x 16 bits, 1-way: 1 x 26 bits; unused slots are 0), each masked
// to the widest product its slot carries among the compiled modes (so synthesis prunes the rest).
module prod_slots #(
    parameter integer MODES = 1023,
    parameter integer KMASK = 7     // possible kmode values (see rmul16)
) (
    input  wire [31:0]  p,          // packed products from rmul16
    input  wire [1:0]   kmode,      // 0: 4-way, 1: 2-way, 2: 1-way
    output wire [103:0] pm          // slot s in bits [26*s, 26*s + 26)
);
`include "mac_defs.vh"
    wire [1:0] km = (KMASK == 1) ? 2'd0 : (KMASK == 2) ? 2'd1 : (KMASK == 4) ? 2'd2 : kmode;
    genvar s;
    generate
        for (s = 0; s < 4; s = s + 1) begin : g_slot
            localparam PW = max_pw(MODES, s);
            wire [25:0] pr = (km == 2'd0) ? {18'd0, p[8*s +: 8]} :
                             (km == 2'd1) ? ((s < 2) ? {10'd0, p[(16*s) % 32 +: 16]} : 26'd0) :
                             ((s == 0) ? p[25:0] : 26'd0);
            assign pm[26*s +: 26] = pr & ((26'd1 << PW) - 26'd1);
        end
    endgenerate
endmodule
