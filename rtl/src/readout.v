// Readout encoder of one lane: the accumulator magnitude (exact or fixed register, or the fp32
// register's significand) times 2^lsb to the output code.
// native: int32 (saturating) for integer modes, posit(N, ES) RNE for posit modes, FP32 RNE for
// float modes; fp32 = 1: FP32 RNE for every mode.  cls: 0 finite, 1 NaN, 2 +Inf, 3 -Inf.
// The exponent of mag's LSB is worked out here from build-time parameters wherever it is a
// constant (fixed register: -FF; exact register: 0 on the int32 path, and the mode's 2 * lsb
// when all compiled modes share it), so that synthesis drops the encoders' variable shifters
// even with the hierarchy kept.  Only the fp32 register takes it from the rexp port.
module readout #(
    parameter integer MODES = 1023,
    parameter W = 130,
    parameter integer ACC = 0,      // 0 exact, 1 fp32, 2 fixed
    parameter integer FF = 24       // fixed register: fraction bits
) (
    input  wire [3:0]   mode,
    input  wire         fp32,
    input  wire         sign,
    input  wire [W-1:0] mag,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: read only when ACC = 1
    input  wire signed [11:0] rexp,     // fp32 register: exponent of mag's least significant bit
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [1:0]   cls,
    output reg  [31:0]  y
);
`include "mac_defs.vh"
    function has(input integer m);
        has = ((MODES >> m) & 1) == 1;
    endfunction
    // the lsb exponent: a build-time constant for the int32 path unless fp32 (exact: 0, fixed:
    // -FF), and for the other encoders with a fixed register or exact modes sharing one lsb
    localparam integer I_FIX = (ACC != 1) ? 1 : 0;
    localparam integer I_LSB = (ACC == 2) ? -FF : 0;
    localparam integer O_FIX = (ACC == 2 || (ACC == 0 && lsb2_uniform(MODES) != 0)) ? 1 : 0;
    localparam integer O_LSB = (ACC == 2) ? -FF : lsb2_first(MODES);
    wire signed [9:0] lm = lsb2_of(mode);
    wire signed [11:0] lsb2 = (ACC == 1) ? rexp : {{2{lm[9]}}, lm};
    wire [31:0] f32;
    enc_fp32 #(.WM(W), .EW(12), .LSB_FIXED(O_FIX), .LSB(O_LSB)) u_f32 (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(f32));
    wire [3:0]  c4;
    wire [7:0]  c8;
    wire [15:0] c16;
    generate
        if (has(M_P4)) begin : g_p4
            enc_posit #(.N(4), .ES(1), .WM(W), .EW(12), .LSB_FIXED(O_FIX), .LSB(O_LSB)) u (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(c4));
        end else begin : g_p4n
            assign c4 = 4'd0;
        end
        if (has(M_P8)) begin : g_p8
            enc_posit #(.N(8), .ES(0), .WM(W), .EW(12), .LSB_FIXED(O_FIX), .LSB(O_LSB)) u (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(c8));
        end else begin : g_p8n
            assign c8 = 8'd0;
        end
        if (has(M_P16)) begin : g_p16
            enc_posit #(.N(16), .ES(1), .WM(W), .EW(12), .LSB_FIXED(O_FIX), .LSB(O_LSB)) u (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(c16));
        end else begin : g_p16n
            assign c16 = 16'd0;
        end
    endgenerate
    // int32: RNE to an integer, then saturation
    wire [31:0] i32;
    enc_int32 #(.WM(W), .EW(12), .LSB_FIXED(I_FIX), .LSB(I_LSB)) u_i32 (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(i32));
    wire is_posit = (mode == M_P4) || (mode == M_P8) || (mode == M_P16);
    wire is_int = (mode == M_INT4) || (mode == M_INT8);
    always @* begin
        if (fp32 || !(is_posit || is_int)) begin
            y = (cls == 2'd1) ? 32'h7fc00000 : (cls == 2'd2) ? 32'h7f800000 :
                (cls == 2'd3) ? 32'hff800000 : f32;
        end else if (is_int) begin
            y = i32;
        end else begin
            case (mode)
                M_P4:  y = (cls != 2'd0) ? 32'h8 : {28'd0, c4};
                M_P8:  y = (cls != 2'd0) ? 32'h80 : {24'd0, c8};
                default: y = (cls != 2'd0) ? 32'h8000 : {16'd0, c16};
            endcase
        end
    end
endmodule
