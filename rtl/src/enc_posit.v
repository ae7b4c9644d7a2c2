// Round-to-nearest-even of (-1)^sign * mag * 2^lsbexp to a posit(N, ES) code.  Rounding is done
// on the bit string (regime, exponent, fraction); magnitudes above maxpos give maxpos and
// nonzero magnitudes below minpos give minpos (a posit never rounds to zero or to NaR).
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, 32-bit sums, spare codes) unused for some parameters
module enc_posit #(
    parameter N  = 8,
    parameter ES = 0,
    parameter WM = 43,
    parameter EW = 12,
    parameter integer LSB_FIXED = 0,   // 1: the lsb exponent is the build-time constant LSB
    parameter integer LSB = 0,         //    (the lsbexp port is then ignored)
    parameter integer NORM = 0,        // 1: mag is normalised (msb set, or mag = 0): no shift
    parameter integer PIPE = 0         // 1: a register (ce) between the template and rounding
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 ce,
    input  wire                 sign,
    input  wire [WM-1:0]        mag,
    input  wire signed [EW-1:0] lsbexp,
    output wire [N-1:0]         code
);
    // a build-time constant lsb exponent lets synthesis fold the shifts and adds that use it,
    // even where the hierarchy is kept (no constant crosses a module port there)
    localparam [31:0] LSB32 = LSB;
    wire [31:0] lsb32w = LSB32;
    wire signed [EW-1:0] le = (LSB_FIXED != 0) ? $signed(lsb32w[EW-1:0]) : lsbexp;
    localparam CW = 9;
    localparam MAXSCALE = (N - 2) * (1 << ES);
    localparam FB = N;                       // fraction bits kept before the sticky bit
    localparam XW = (WM < FB + 2) ? FB + 2 : WM;
    localparam T = 2 + ES + FB + 1;          // template: regime pair, exponent, fraction, sticky
    wire [CW-1:0] lz;
    generate
        if (NORM != 0) begin : g_norm
            assign lz = {CW{1'b0}};
        end else begin : g_lzc
            lzc #(.N(WM), .CW(CW)) u_lzc (.x(mag), .n(lz));
        end
    endgenerate
    wire [XW+WM-1:0] cat = {mag, {XW{1'b0}}};
    wire [XW-1:0] m = cat[XW+WM-1 -: XW] << lz;                     // msb at XW-1
    localparam integer TOP = WM - 1;
    wire signed [31:0] scale32 = $signed({{(32-EW){le[EW-1]}}, le}) + TOP - $signed({{(32-CW){1'b0}}, lz});
    wire signed [EW+2:0] scale = scale32[EW+2:0];
    wire hi_d = scale >= MAXSCALE;
    wire lo_d = scale < -MAXSCALE;
    wire signed [EW+2:0] k = scale >>> ES;
    wire [ES:0] e = scale[ES:0] & ((1 << ES) - 1);
    wire [FB-1:0] frac = m[XW-2 -: FB];
    wire fsticky = |m[XW-2-FB:0];
    wire [T-1:0] tmpl_d;
    generate
        if (ES > 0) begin : g_e
            assign tmpl_d = {(k >= 0) ? 2'b10 : 2'b01, e[ES-1:0], frac, fsticky};
        end else begin : g_noe
            assign tmpl_d = {(k >= 0) ? 2'b10 : 2'b01, frac, fsticky};
        end
    endgenerate
    // shift right by the extra regime length, filling with the regime bit, collecting a sticky
    wire signed [EW+2:0] rsh_full = (k >= 0) ? k : -k - 1;
    wire [7:0] rsh_d = (rsh_full > N) ? N[7:0] : rsh_full[7:0];
    // the cut (PIPE = 1): the regime template above, its shift and rounding below
    wire [T-1:0] tmpl;
    wire [7:0] rsh;
    wire kpos, hi, lo, zero, sgn;
    pipe_reg #(.W(T + 13), .EN(PIPE)) u_cut (.clk(clk), .rst(rst), .ce(ce),
        .d({tmpl_d, rsh_d, k >= 0, hi_d, lo_d, mag == 0, sign}),
        .q({tmpl, rsh, kpos, hi, lo, zero, sgn}));
    wire [2*T-1:0] wide = {(kpos ? {T{1'b1}} : {T{1'b0}}), tmpl};
    wire [2*T-1:0] shd = wide >> rsh;
    wire [T-1:0] sh = shd[T-1:0];
    wire lost = |(tmpl & ((1 << rsh) - 1));
    wire [N-2:0] pat = sh[T-1 -: N-1];
    wire guard = sh[T-N];
    wire sticky = (|sh[T-N-1:0]) | lost;
    wire rup = guard & (pat[0] | sticky);
    wire [N-2:0] maxpos = {(N-1){1'b1}};
    wire [N-2:0] minpos = {{(N-2){1'b0}}, 1'b1};
    wire [N-2:0] mp = hi ? maxpos : lo ? minpos : pat + rup;
    assign code = zero ? {N{1'b0}} : sgn ? (~{1'b0, mp} + 1'b1) : {1'b0, mp};
endmodule
/* verilator lint_on UNUSEDSIGNAL */
