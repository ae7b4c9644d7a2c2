// A normalised value (-1)^sign * sig * 2^(mexp - 39) (sig[39] set; st: sticky below sig, a
// round-to-odd at 41 bits) rounded to an integer with RNE, then saturated to int32
// [-2^31, 2^31 - 1].  |value| >= 2^31 saturates (rounding up to 2^31 included); below 1/2 it
// rounds to 0 (a tie at 1/2 goes to the even 0).  PIPE = 1 puts a register (ce) between the
// alignment shift and the rounding increment.
module enc_int32 #(
    parameter integer PIPE = 0
) (
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: no clock when PIPE = 0
    input  wire               clk,
    input  wire               rst,
    input  wire               ce,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire               sign,
    input  wire [39:0]        sig,
    input  wire               st,
    input  wire signed [11:0] mexp,
    input  wire               zero,
    output wire [31:0]        code
);
    // mexp in [-1, 30]: the integer part is sig >> (39 - mexp) (9 to 40 places)
    wire big_d = !zero && (mexp >= 12'sd31);
    wire tiny_d = zero || (mexp < -12'sd1);
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: only the low bits of rs12 and the integer part of w
    wire [11:0] rs12 = 12'sd39 - mexp;
    wire [5:0] rs = tiny_d || big_d ? 6'd40 : rs12[5:0];
    wire [80:0] w = {sig, st, 40'd0} >> rs;                 // integer . guard, sticky
    /* verilator lint_on UNUSEDSIGNAL */
    wire [31:0] qi_d = w[72:41];
    wire guard = w[40];
    wire sticky = |w[39:0];
    wire rup_d = guard & (qi_d[0] | sticky) & !tiny_d;
    wire [31:0] qi;
    wire rup, big, sgn;
    pipe_reg #(.W(35), .EN(PIPE)) u_cut (.clk(clk), .rst(rst), .ce(ce),
        .d({qi_d, rup_d, big_d, sign}), .q({qi, rup, big, sgn}));
    // (-1)^sign * (qi + rup) in one increment: -(qi + r) = ~qi + (1 - r)
    wire [31:0] x = sgn ? ~qi : qi;
    wire [32:0] v = {1'b0, x} + {32'd0, sgn ^ rup};
    wire ovf = !sgn && (v[31] || v[32]);                    // +2^31 after rounding
    assign code = big ? (sgn ? 32'h80000000 : 32'h7fffffff) : ovf ? 32'h7fffffff : v[31:0];
endmodule
