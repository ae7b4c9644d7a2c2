/* verilator lint_off UNUSEDSIGNAL */  // waiver: slot bits above the widest compiled product are unused
// The fp32 accumulator's adder chain (docs/mac.md 4.2): for each product of the word pair, in
// sub-word order, acc <- RNE_fp32(acc + a*b) with the product exact (a fused add, fadd_fp32).
// A 4-way word is four dependent additions in one cycle, the price of this accumulator's
// per-product rounding.  Slots no compiled mode uses are left out; an empty slot (product 0)
// passes the register through.
module fp32_acc #(
    parameter integer MODES = 1023
) (
    input  wire [103:0] pm,       // slot magnitudes from prod_slots
    input  wire [27:0]  psh,      // 4 x 7-bit exponent sums
    input  wire [3:0]   psign,
    input  wire [3:0]   mode,
    input  wire [31:0]  acc,
    output wire [31:0]  sum
);
`include "mac_defs.vh"
    wire signed [9:0] lsb2 = lsb2_of(mode);
    wire [31:0] c0, c1, c2, c3, c4;
    assign c0 = acc;
    genvar s;
    generate
        for (s = 0; s < 4; s = s + 1) begin : g_slot
            wire [31:0] cin, cout;
            if (s == 0) begin : gi0 assign cin = c0; end
            if (s == 1) begin : gi1 assign cin = c1; end
            if (s == 2) begin : gi2 assign cin = c2; end
            if (s == 3) begin : gi3 assign cin = c3; end
            if (max_pw(MODES & MASK_NONMX, s) > 1) begin : g_add
                localparam PW = max_pw(MODES & MASK_NONMX, s);
                wire signed [9:0] xexp = $signed({3'd0, psh[7*s +: 7]}) + lsb2;
                fadd_fp32 #(.MW(PW), .EW(10)) u_add (.acc(cin), .xs(psign[s]), .xm(pm[26*s +: PW]),
                                                     .xexp(xexp), .sum(cout));
            end else begin : g_pass
                assign cout = cin;
            end
            if (s == 0) begin : go0 assign c1 = cout; end
            if (s == 1) begin : go1 assign c2 = cout; end
            if (s == 2) begin : go2 assign c3 = cout; end
            if (s == 3) begin : go3 assign c4 = cout; end
        end
    endgenerate
    assign sum = c4;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
