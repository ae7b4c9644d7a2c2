// The exact sum of one word pair's products (the fp32 accumulator at PIPE = 1, docs/mac.md 4.2):
// S = sum over the slots of (-1)^psign * pm << psh, at the mode's product LSB 2^(2 lsb), as a sign
// and a magnitude of SW bits (mac_defs.vh's fp32_sum_width); a 1-way word (posit16_1) is its one product,
// unshifted, with its shift in e0 (S * 2^e0 at 2^(2 lsb)).  Four one's complement terms and the
// count of their +1s in a carry-save tree, one prefix adder, then the magnitude (a second one).
/* verilator lint_off UNUSEDSIGNAL */  // waiver: slot bits above a build's widest product are unused
module word_sum #(
    parameter integer KMASK = 7,    // possible kmode values (see rmul16)
    parameter integer SW = 75       // fp32_sum_width(MODES) (mac_defs.vh)
) (
    input  wire [103:0] pm,         // slot magnitudes from prod_slots
    input  wire [27:0]  psh,        // 4 x 7-bit exponent sums
    input  wire [3:0]   psign,
    input  wire [1:0]   kmode,      // 0: 4-way, 1: 2-way, 2: 1-way
    output wire         sign,
    output wire [SW-1:0] mag,
    output wire [6:0]   e0
);
    localparam integer TW = SW + 1;         // the signed sum
    wire one = (KMASK == 4) || (KMASK != 1 && KMASK != 2 && kmode == 2'd2);
    wire [TW-1:0] x [0:3];
    genvar s;
    generate
        for (s = 0; s < 4; s = s + 1) begin : g_t
            localparam integer SHW = 7;
            wire [SHW-1:0] sh = one ? 7'd0 : psh[7*s +: 7];
            wire [TW+25:0] prx = {{TW{1'b0}}, pm[26*s +: 26]};
            wire [TW-1:0] ext = prx[TW-1:0] << sh;
            assign x[s] = psign[s] ? ~ext : ext;
        end
    endgenerate
    wire [2:0] nc = {2'b00, psign[0]} + {2'b00, psign[1]} + {2'b00, psign[2]} + {2'b00, psign[3]};
    wire [TW-1:0] x4 = {{(TW-3){1'b0}}, nc};
    wire [TW-1:0] s0 = x[0] ^ x[1] ^ x[2];
    wire [TW-1:0] c0 = ((x[0] & x[1]) | (x[0] & x[2]) | (x[1] & x[2])) << 1;
    wire [TW-1:0] s1 = s0 ^ x[3] ^ x4;
    wire [TW-1:0] c1 = ((s0 & x[3]) | (s0 & x4) | (x[3] & x4)) << 1;
    wire [TW-1:0] s2 = s1 ^ c1 ^ c0;
    wire [TW-1:0] c2 = ((s1 & c1) | (s1 & c0) | (c1 & c0)) << 1;
    wire [TW-1:0] sum, m;
    wire co0, co1;
    padd #(.W(TW)) u_sum (.a(s2), .b(c2), .cin(1'b0), .s(sum), .cout(co0));
    padd #(.W(TW)) u_mag (.a(sum ^ {TW{sum[TW-1]}}), .b({TW{1'b0}}), .cin(sum[TW-1]), .s(m), .cout(co1));
    assign sign = sum[TW-1];
    assign mag = m[SW-1:0];
    assign e0 = one ? psh[6:0] : 7'd0;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
