// Operand decoders of one 16-bit word: the per-format decoders of the compiled modes, muxed by
// mode into the common form of up to four sub-words (slots):
//   pmag  packed significands for the reconfigurable multiplier
//         (4-way: 4 x 4 bits, 2-way: 2 x 8 bits, 1-way: 1 x 16 bits)
//   sign, sh (value = mag * 2^(sh + lsb)), cls (0 finite, 1 NaN/NaR, 2 +Inf, 3 -Inf) per slot.
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors (left-aligned copies, 32-bit sums, spare codes) unused for some parameters
module dec_word #(
    parameter integer MODES = 1023
) (
    input  wire [15:0] word,
    input  wire [3:0]  mode,
    output reg  [15:0] pmag,
    output reg  [3:0]  sign,
    output reg  [27:0] sh,       // 4 x 7 bits
    output reg  [7:0]  cls       // 4 x 2 bits
);
`include "mac_defs.vh"
    function has(input integer m);
        has = ((MODES >> m) & 1) == 1;
    endfunction
    localparam USE_FP4  = ((MODES >> M_FP4) & 1) | ((MODES >> M_MXFP4) & 1);
    localparam USE_INT8 = ((MODES >> M_INT8) & 1) | ((MODES >> M_MXINT8) & 1);

    // 4-bit formats, four slots
    wire [3:0] i4_s, f4_s, p4_s;
    wire [15:0] i4_m, f4_m, p4_m;
    wire [7:0] f4_sh;
    wire [15:0] p4_sh;
    wire [7:0] p4_c;
    // 8-bit formats, two slots
    wire [1:0] i8_s, p8_s, e4_s, e5_s;
    wire [15:0] i8_m, p8_m, e4_m, e5_m;
    wire [9:0] p8_sh, e4_sh, e5_sh;
    wire [3:0] p8_c, e4_c, e5_c;
    // posit16_1, one slot
    wire p16_s;
    wire [12:0] p16_m;
    wire [6:0] p16_sh;
    wire [1:0] p16_c;

    genvar j;
    generate
        for (j = 0; j < 4; j = j + 1) begin : g4
            if (has(M_INT4)) begin : gi
                dec_int #(.N(4)) u (.code(word[4*j +: 4]), .sign(i4_s[j]), .mag(i4_m[4*j +: 4]));
            end else begin : gin
                assign i4_s[j] = 1'b0; assign i4_m[4*j +: 4] = 4'd0;
            end
            if (USE_FP4 != 0) begin : gf
                wire [1:0] m2; wire [1:0] s2; wire [1:0] c2;
                dec_minifloat #(.E(2), .M(1), .SPECIAL(0)) u (.code(word[4*j +: 4]), .sign(f4_s[j]),
                    .mag(m2), .sh(s2), .cls(c2));
                assign f4_m[4*j +: 4] = {2'b00, m2};
                assign f4_sh[2*j +: 2] = s2;
            end else begin : gfn
                assign f4_s[j] = 1'b0; assign f4_m[4*j +: 4] = 4'd0; assign f4_sh[2*j +: 2] = 2'd0;
            end
            if (has(M_P4)) begin : gp
                wire [0:0] m1;
                dec_posit #(.N(4), .ES(1), .SW(4)) u (.code(word[4*j +: 4]), .sign(p4_s[j]),
                    .mag(m1), .sh(p4_sh[4*j +: 4]), .cls(p4_c[2*j +: 2]));
                assign p4_m[4*j +: 4] = {3'b000, m1};
            end else begin : gpn
                assign p4_s[j] = 1'b0; assign p4_m[4*j +: 4] = 4'd0; assign p4_sh[4*j +: 4] = 4'd0;
                assign p4_c[2*j +: 2] = 2'd0;
            end
        end
        for (j = 0; j < 2; j = j + 1) begin : g8
            if (USE_INT8 != 0) begin : gi
                dec_int #(.N(8)) u (.code(word[8*j +: 8]), .sign(i8_s[j]), .mag(i8_m[8*j +: 8]));
            end else begin : gin
                assign i8_s[j] = 1'b0; assign i8_m[8*j +: 8] = 8'd0;
            end
            if (has(M_P8)) begin : gp
                wire [5:0] m6;
                dec_posit #(.N(8), .ES(0), .SW(5)) u (.code(word[8*j +: 8]), .sign(p8_s[j]),
                    .mag(m6), .sh(p8_sh[5*j +: 5]), .cls(p8_c[2*j +: 2]));
                assign p8_m[8*j +: 8] = {2'b00, m6};
            end else begin : gpn
                assign p8_s[j] = 1'b0; assign p8_m[8*j +: 8] = 8'd0; assign p8_sh[5*j +: 5] = 5'd0;
                assign p8_c[2*j +: 2] = 2'd0;
            end
            if (has(M_E4M3)) begin : ge4
                wire [3:0] m4; wire [3:0] s4;
                dec_minifloat #(.E(4), .M(3), .SPECIAL(1)) u (.code(word[8*j +: 8]), .sign(e4_s[j]),
                    .mag(m4), .sh(s4), .cls(e4_c[2*j +: 2]));
                assign e4_m[8*j +: 8] = {4'd0, m4};
                assign e4_sh[5*j +: 5] = {1'b0, s4};
            end else begin : ge4n
                assign e4_s[j] = 1'b0; assign e4_m[8*j +: 8] = 8'd0; assign e4_sh[5*j +: 5] = 5'd0;
                assign e4_c[2*j +: 2] = 2'd0;
            end
            if (has(M_E5M2)) begin : ge5
                wire [2:0] m3;
                dec_minifloat #(.E(5), .M(2), .SPECIAL(2)) u (.code(word[8*j +: 8]), .sign(e5_s[j]),
                    .mag(m3), .sh(e5_sh[5*j +: 5]), .cls(e5_c[2*j +: 2]));
                assign e5_m[8*j +: 8] = {5'd0, m3};
            end else begin : ge5n
                assign e5_s[j] = 1'b0; assign e5_m[8*j +: 8] = 8'd0; assign e5_sh[5*j +: 5] = 5'd0;
                assign e5_c[2*j +: 2] = 2'd0;
            end
        end
        if (has(M_P16)) begin : g16
            dec_posit #(.N(16), .ES(1), .SW(7)) u (.code(word), .sign(p16_s), .mag(p16_m),
                .sh(p16_sh), .cls(p16_c));
        end else begin : g16n
            assign p16_s = 1'b0; assign p16_m = 13'd0; assign p16_sh = 7'd0; assign p16_c = 2'd0;
        end
    endgenerate

    // per-slot 7-bit shifts of the multi-slot formats, widened once (no loop variable in the
    // always block below, so that no latch is inferred for it)
    wire [27:0] f4_sh7, p4_sh7, p8_sh7, e4_sh7, e5_sh7;
    generate
        for (j = 0; j < 4; j = j + 1) begin : g_sh4
            assign f4_sh7[7*j +: 7] = {5'd0, f4_sh[2*j +: 2]};
            assign p4_sh7[7*j +: 7] = {3'd0, p4_sh[4*j +: 4]};
        end
        for (j = 0; j < 2; j = j + 1) begin : g_sh8
            assign p8_sh7[7*j +: 7] = {2'd0, p8_sh[5*j +: 5]};
            assign e4_sh7[7*j +: 7] = {2'd0, e4_sh[5*j +: 5]};
            assign e5_sh7[7*j +: 7] = {2'd0, e5_sh[5*j +: 5]};
        end
        for (j = 2; j < 4; j = j + 1) begin : g_sh8z
            assign p8_sh7[7*j +: 7] = 7'd0;
            assign e4_sh7[7*j +: 7] = 7'd0;
            assign e5_sh7[7*j +: 7] = 7'd0;
        end
    endgenerate
    always @* begin
        pmag = 16'd0; sign = 4'd0; sh = 28'd0; cls = 8'd0;
        case (mode)
            M_INT4: if (has(M_INT4)) begin pmag = i4_m; sign = i4_s; end
            M_FP4, M_MXFP4: if (USE_FP4 != 0) begin
                pmag = f4_m; sign = f4_s; sh = f4_sh7;
            end
            M_P4: if (has(M_P4)) begin
                pmag = p4_m; sign = p4_s; cls = p4_c; sh = p4_sh7;
            end
            M_INT8, M_MXINT8: if (USE_INT8 != 0) begin pmag = i8_m; sign = {2'b00, i8_s}; end
            M_P8: if (has(M_P8)) begin
                pmag = p8_m; sign = {2'b00, p8_s}; cls = {4'd0, p8_c}; sh = p8_sh7;
            end
            M_E4M3: if (has(M_E4M3)) begin
                pmag = e4_m; sign = {2'b00, e4_s}; cls = {4'd0, e4_c}; sh = e4_sh7;
            end
            M_E5M2: if (has(M_E5M2)) begin
                pmag = e5_m; sign = {2'b00, e5_s}; cls = {4'd0, e5_c}; sh = e5_sh7;
            end
            M_P16: if (has(M_P16)) begin
                pmag = {3'd0, p16_m}; sign = {3'd0, p16_s}; cls = {6'd0, p16_c}; sh[6:0] = p16_sh;
            end
            default: ;
        endcase
    end
endmodule
/* verilator lint_on UNUSEDSIGNAL */
