// Alignment shifters of the exact accumulator (pipeline stage s4): the up-to-four signed
// products of one word pair, each shifted left by its exponent sum, as one's complement terms
// (a negative product is ~|p|; the count of negative products, neg, is the sum of the +1s),
// so that stage s5 adds acc + t0 + t1 + t2 + t3 + neg in one carry-save tree and one adder.
// Slot s is only as wide as its largest shifted product (tw(s) bits, sign included); stage s5
// sign-extends it.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, spare slot bits) unused for some parameters
module align_acc #(
    parameter integer MODES = 1023,
    parameter W = 130
) (
    input  wire [103:0]   pm,       // slot magnitudes from prod_slots
    input  wire [27:0]    psh,      // 4 x 7-bit exponent sums
    input  wire [3:0]     psign,
    output wire [4*W-1:0] t,        // slot s in [s*W +: W], low tw(s) bits meaningful
    output wire [2:0]     neg
);
`include "mac_defs.vh"
    genvar s;
    generate
        for (s = 0; s < 4; s = s + 1) begin : g_slot
            localparam SHMAX = max_psh(MODES, s);
            localparam SHW = (SHMAX > 0) ? clog2(SHMAX + 1) : 1;
            wire [SHW-1:0] sh = (SHMAX > 0) ? psh[7*s +: SHW] : {SHW{1'b0}};
            wire [W+25:0] prx = {{W{1'b0}}, pm[26*s +: 26]};
            wire [W-1:0] ext = prx[W-1:0] << sh;
            assign t[s*W +: W] = psign[s] ? ~ext : ext;
        end
    endgenerate
    assign neg = {2'b00, psign[0]} + {2'b00, psign[1]} + {2'b00, psign[2]} + {2'b00, psign[3]};
endmodule
/* verilator lint_on UNUSEDSIGNAL */
