// Round-to-nearest-even of (-1)^sign * mag * 2^lsbexp to an IEEE binary32 code, with
// subnormals and overflow to Inf.  Zero gives +0.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, 32-bit sums, spare codes) unused for some parameters
module enc_fp32 #(
    parameter WM = 130,          // magnitude width
    parameter EW = 12,            // width of the signed lsb exponent
    parameter integer LSB_FIXED = 0,   // 1: the lsb exponent is the build-time constant LSB
    parameter integer LSB = 0,         //    (the lsbexp port is then ignored)
    parameter integer NORM = 0,        // 1: mag is normalised (msb set, or mag = 0): no shift
    parameter integer PIPE = 0,        // 1: a register (ce) between normalising and rounding
    parameter integer FAST = 0,        // 1: the rounding increment as a prefix adder, the
                                       //    overflow test on the exponent bits (deep pipeline)
    parameter integer NOSUB = 0        // 1: the value is never below 2^-126 (or zero): no
                                       //    subnormal shift (nvfp4's sums, nv_deep)
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 ce,
    input  wire                 sign,
    input  wire [WM-1:0]        mag,
    input  wire signed [EW-1:0] lsbexp,
    output wire [31:0]          code
);
    // a build-time constant lsb exponent lets synthesis fold the shifts and adds that use it,
    // even where the hierarchy is kept (no constant crosses a module port there)
    localparam [31:0] LSB32 = LSB;
    wire [31:0] lsb32w = LSB32;
    wire signed [EW-1:0] le = (LSB_FIXED != 0) ? $signed(lsb32w[EW-1:0]) : lsbexp;
    localparam CW = 9;
    localparam XW = (WM < 27) ? 27 : WM;   // normalised width (at least 24 + guard + 2)
    wire [CW-1:0] lz;
    generate
        if (NORM != 0) begin : g_norm
            assign lz = {CW{1'b0}};
        end else begin : g_lzc
            lzc #(.N(WM), .CW(CW)) u_lzc (.x(mag), .n(lz));
        end
    endgenerate
    wire [XW+WM-1:0] cat = {mag, {XW{1'b0}}};
    wire [XW-1:0] m = cat[XW+WM-1 -: XW] << lz;                      // msb at XW-1
    // exponent of the leading one, biased
    localparam integer TOPBIAS = WM - 1 + 127;
    wire signed [31:0] biased32 = $signed({{(32-EW){le[EW-1]}}, le}) + TOPBIAS - $signed({{(32-CW){1'b0}}, lz});
    wire signed [EW+2:0] biased = biased32[EW+2:0];
    // subnormal: shift right by 1 - biased (at most 26 matters)
    wire signed [EW+2:0] rs_full = 1 - biased;
    wire [4:0] rs = (NOSUB != 0) ? 5'd0 : (biased >= 1) ? 5'd0 : (rs_full > 26) ? 5'd26 : rs_full[4:0];
    wire [25:0] top_d = m[XW-1 -: 26];                                // 24 bits + guard + one more
    wire        low_sticky_d = |m[XW-27:0];
    wire [7:0]  ef_d = (NOSUB != 0) ? biased[7:0] : (biased >= 1) ? biased[7:0] : 8'd0;
    wire        ovf_d = (biased >= 255);
    wire        zero_d = (mag == 0);
    // the cut (PIPE = 1): everything above is normalising, everything below rounding
    wire [25:0] top;
    wire [4:0]  rsq;
    wire [7:0]  ef;
    wire        low_sticky, ovf, zero, sgn;
    pipe_reg #(.W(43), .EN(PIPE)) u_cut (.clk(clk), .rst(rst), .ce(ce),
        .d({top_d, low_sticky_d, rs, ef_d, ovf_d, zero_d, sign}),
        .q({top, low_sticky, rsq, ef, ovf, zero, sgn}));
    wire [51:0] shf = (NOSUB != 0) ? {top, 26'd0} : {top, 26'd0} >> rsq;
    wire [23:0] mant = shf[51:28];
    wire        guard = shf[27];
    wire        sticky = (|shf[26:0]) | low_sticky;
    wire        rup = guard & (mant[0] | sticky);
    wire [30:0] q;
    wire qovf;                          // q >= 0x7f800000 (q is at most that: ef <= 254)
    generate
        if (FAST != 0) begin : g_fast
            wire co;
            padd #(.W(31)) u_inc (.a({ef, mant[22:0]}), .b(31'd0), .cin(rup), .s(q), .cout(co));
            assign qovf = &q[30:23];
        end else begin : g_slow
            assign q = {ef, mant[22:0]} + {30'd0, rup};
            assign qovf = 1'b0;             // (the comparison stays inline below)
        end
    endgenerate
    assign code = zero ? 32'd0 : ovf ? {sgn, 8'hff, 23'd0} :
                  ((FAST != 0) ? qovf : (q >= 31'h7f800000)) ? {sgn, 8'hff, 23'd0} : {sgn, q};
endmodule
/* verilator lint_on UNUSEDSIGNAL */
