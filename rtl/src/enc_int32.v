// (-1)^sign * mag * 2^lsbexp rounded to an integer with RNE, then saturated to int32
// [-2^31, 2^31 - 1].  lsbexp < 0: fraction bits are rounded off; lsbexp >= 0: mag is shifted
// up (anything at or above 2^31 saturates).  With LSB_FIXED (0 for the exact register) only
// the saturation logic is left after synthesis.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors unused for some parameters
module enc_int32 #(
    parameter WM = 130,
    parameter EW = 12,
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
    localparam XW = WM + 34;
    localparam SW = clog2w(WM + 2);
    function integer clog2w(input integer v);
        integer x;
        begin
            clog2w = 0;
            x = v - 1;
            while (x > 0) begin clog2w = clog2w + 1; x = x >> 1; end
        end
    endfunction
    localparam integer RCAP = WM + 1;
    wire [31:0] rcap32 = RCAP;
    wire neg = le < 0;
    wire signed [31:0] l32 = $signed({{(32-EW){le[EW-1]}}, le});
    wire signed [31:0] nl = -l32;
    wire [SW-1:0] rs = !neg ? {SW{1'b0}} : (nl > RCAP) ? rcap32[SW-1:0] : nl[SW-1:0];
    wire [5:0] ls = neg ? 6'd0 : (l32 > 33) ? 6'd33 : l32[5:0];
    // right: integer part, guard, sticky
    wire [2*WM-1:0] wr = {mag, {WM{1'b0}}} >> rs;
    wire [WM-1:0] qi = wr[2*WM-1:WM];
    wire guard = wr[WM-1];
    wire sticky = |wr[WM-2:0];
    wire [WM:0] qr = {1'b0, qi} + {{WM{1'b0}}, guard & (qi[0] | sticky)};
    // left
    wire [XW-1:0] ql = {{(XW-WM){1'b0}}, mag} << ls;
    wire [XW-1:0] m = neg ? {{(XW-WM-1){1'b0}}, qr} : ql;
    wire big = |(m >> 31);                                      // |value| >= 2^31
    wire at_min = (m == ({{(XW-1){1'b0}}, 1'b1} << 31));        // |value| == 2^31
    wire [31:0] m32 = m[31:0];
    assign code = sign ? ((big && !at_min) ? 32'h80000000 : (~m32 + 1'b1))
                       : (big ? 32'h7fffffff : m32);
endmodule
/* verilator lint_on UNUSEDSIGNAL */
