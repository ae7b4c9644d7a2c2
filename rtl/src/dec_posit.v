// posit(N, ES) element -> sign, significand, shift, class, with regime leading-run detection.
// value = (-1)^sign * mag * 2^(sh + lsb), lsb = -(N-2)*2^ES (the exponent of minpos).
// mag = 1.f with only the fraction bits the code holds (right aligned), so that sh >= 0.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, 32-bit sums, spare codes) unused for some parameters
module dec_posit #(
    parameter N  = 8,
    parameter ES = 0,
    parameter FW = N - 3 - ES,           // most fraction bits any code holds
    parameter SW = 8                     // width of sh
) (
    input  wire [N-1:0]  code,
    output wire          sign,
    output wire [FW:0]   mag,
    output wire [SW-1:0] sh,
    output wire [1:0]    cls             // 0 finite, 1 NaR
);
    localparam LSB = -(N - 2) * (1 << ES);
    wire nar  = code[N-1] & ~(|code[N-2:0]);
    wire zero = ~(|code);
    wire [N-1:0] a = code[N-1] ? (~code + 1'b1) : code;   // |code|
    wire [N-2:0] body = a[N-2:0];
    // run length r of the leading regime bit
    reg  [7:0] r;
    reg        stop;
    integer i;
    always @* begin
        r = 8'd0;
        stop = 1'b0;
        for (i = N - 2; i >= 0; i = i - 1) begin
            if (!stop && body[i] == body[N-2]) r = r + 8'd1;
            else stop = 1'b1;
        end
    end
    // regime length L = r + 1 (terminated) or r (run to the end); k = r-1 (ones) or -r (zeros)
    wire [7:0] L = (r == N - 1) ? r : r + 8'd1;
    wire signed [9:0] k = body[N-2] ? $signed({2'b00, r}) - 10'sd1 : -$signed({2'b00, r});
    // bits after the regime, left aligned: es exponent bits then the fraction
    wire [N-2:0] rest = body << L;
    wire [ES:0]  e;
    wire [FW:0]  m_left;                    // 1.f, FW fraction bits, left aligned
    generate
        if (ES > 0) begin : g_e
            assign e = {1'b0, rest[N-2 -: ES]};
        end else begin : g_noe
            assign e = 1'b0;
        end
        if (FW > 0) begin : g_f
            assign m_left = {1'b1, rest[N-2-ES -: FW]};
        end else begin : g_nof
            assign m_left = 1'b1;
        end
    endgenerate
    // fraction bits the code holds: FW - (L - 2), at least 0; cut = FW - that
    wire [7:0] cut = (L - 8'd2 > FW) ? FW : L - 8'd2;
    wire signed [11:0] k12 = {{2{k[9]}}, k};
    wire signed [11:0] scale = (k12 <<< ES) + $signed({{(11-ES){1'b0}}, e});
    localparam integer FWL = FW + LSB;      // sh = scale - (FW - cut) - LSB
    /* verilator lint_off UNUSEDSIGNAL */  // only the low SW bits are kept: sh is never wider
    wire signed [31:0] shv = {{20{scale[11]}}, scale} - FWL + $signed({24'd0, cut});
    /* verilator lint_on UNUSEDSIGNAL */
    assign sign = code[N-1];
    assign cls  = nar ? 2'd1 : 2'd0;
    assign mag  = (nar | zero) ? {(FW+1){1'b0}} : (m_left >> cut);
    assign sh   = (nar | zero) ? {SW{1'b0}} : shv[SW-1:0];
endmodule
/* verilator lint_on UNUSEDSIGNAL */
