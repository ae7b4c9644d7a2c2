// ExMy minifloat element -> sign, significand, shift, class.
// value = (-1)^sign * mag * 2^(sh + lsb), lsb = 1 - bias - M (the subnormal quantum):
// exponent field 0: mag = mantissa, sh = 0; otherwise mag = 1.mantissa, sh = E - 1.
// SPECIAL: 0 = every code finite (FP4 E2M1), 1 = "fn" (S.1..1.1..1 is NaN, E4M3),
// 2 = "ieee" (exponent all ones: Inf if mantissa 0, else NaN; E5M2).
module dec_minifloat #(
    parameter E = 4,
    parameter M = 3,
    parameter SPECIAL = 1
) (
    input  wire [E+M:0] code,
    output wire         sign,
    output wire [M:0]   mag,
    output wire [E-1:0] sh,
    output wire [1:0]   cls      // 0 finite, 1 NaN, 2 +Inf, 3 -Inf
);
    wire [E-1:0] ef = code[E+M-1:M];
    wire [M-1:0] mf = code[M-1:0];
    wire top = &ef;
    wire nan = (SPECIAL == 1) ? (top & (&mf)) : (SPECIAL == 2) ? (top & (|mf)) : 1'b0;
    wire inf = (SPECIAL == 2) ? (top & ~(|mf)) : 1'b0;
    assign sign = code[E+M];
    assign cls  = nan ? 2'd1 : inf ? (code[E+M] ? 2'd3 : 2'd2) : 2'd0;
    assign mag  = (nan | inf) ? {(M+1){1'b0}} : (ef == 0) ? {1'b0, mf} : {1'b1, mf};
    assign sh   = (nan | inf | ef == 0) ? {E{1'b0}} : ef - 1'b1;
endmodule
