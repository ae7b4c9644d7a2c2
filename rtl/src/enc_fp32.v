// Round-to-nearest-even of (-1)^sign * mag * 2^lsbexp to an IEEE binary32 code, with
// subnormals and overflow to Inf.  Zero gives +0.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, 32-bit sums, spare codes) unused for some parameters
module enc_fp32 #(
    parameter WM = 130,          // magnitude width
    parameter EW = 12,            // width of the signed lsb exponent
    parameter integer LSB_FIXED = 0,   // 1: the lsb exponent is the build-time constant LSB
    parameter integer LSB = 0          //    (the lsbexp port is then ignored)
) (
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
    lzc #(.N(WM), .CW(CW)) u_lzc (.x(mag), .n(lz));
    wire [XW+WM-1:0] cat = {mag, {XW{1'b0}}};
    wire [XW-1:0] m = cat[XW+WM-1 -: XW] << lz;                      // msb at XW-1
    // exponent of the leading one, biased
    localparam integer TOPBIAS = WM - 1 + 127;
    wire signed [31:0] biased32 = $signed({{(32-EW){le[EW-1]}}, le}) + TOPBIAS - $signed({{(32-CW){1'b0}}, lz});
    wire signed [EW+2:0] biased = biased32[EW+2:0];
    // subnormal: shift right by 1 - biased (at most 26 matters)
    wire signed [EW+2:0] rs_full = 1 - biased;
    wire [4:0] rs = (biased >= 1) ? 5'd0 : (rs_full > 26) ? 5'd26 : rs_full[4:0];
    wire [25:0] top = m[XW-1 -: 26];                                  // 24 bits + guard + one more
    wire        low_sticky = |m[XW-27:0];
    wire [51:0] shf = {top, 26'd0} >> rs;
    wire [23:0] mant = shf[51:28];
    wire        guard = shf[27];
    wire        sticky = (|shf[26:0]) | low_sticky;
    wire        rup = guard & (mant[0] | sticky);
    wire [7:0]  ef = (biased >= 1) ? biased[7:0] : 8'd0;
    wire [30:0] q = {ef, mant[22:0]} + {30'd0, rup};
    wire        ovf = (biased >= 255);
    assign code = (mag == 0) ? 32'd0 : ovf ? {sign, 8'hff, 23'd0} :
                  (q >= 31'h7f800000) ? {sign, 8'hff, 23'd0} : {sign, q};
endmodule
/* verilator lint_on UNUSEDSIGNAL */
