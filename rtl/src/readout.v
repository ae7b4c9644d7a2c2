// Readout encoder of one lane (the out stage): the normalised register value (norm: 40-bit
// significand with its leading one at bit 39, sticky, exponent of the leading one) to the
// output code.  native: int32 (saturating) for integer modes, posit(N, ES) RNE for posit modes,
// FP32 RNE for float modes; fp32 = 1: FP32 RNE for every mode.  cls: 0 finite, 1 NaN,
// 2 +Inf, 3 -Inf.  Every encoder rounds {sig, st} (a round-to-odd at 41 bits, docs/mac.md 5).
// Two pipeline stages: the encoders' front halves (exponent, template, alignment) load their
// cut registers on ce; the back halves (rounding increment, sign, saturation) and the output
// select run in the next stage, with that stage's mode and fp32 flag.
module readout #(
    parameter integer MODES = 1023
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                ce,
    input  wire [3:0]          mode,    // of the back stage
    input  wire                fp32,    // of the back stage
    input  wire                sign,
    input  wire [39:0]         sig,
    input  wire                st,
    input  wire signed [11:0]  mexp,
    input  wire                zero,
    input  wire [1:0]          cls,
    output reg  [31:0]         y
);
`include "mac_defs.vh"
    function has(input integer m);
        has = ((MODES >> m) & 1) == 1;
    endfunction
    wire [40:0] mag = zero ? 41'd0 : {sig, st};
    wire signed [11:0] lsbexp = mexp - 12'sd40;
    wire [31:0] f32;
    enc_fp32 #(.WM(41), .EW(12), .NORM(1), .PIPE(1)) u_f32 (.clk(clk), .rst(rst), .ce(ce), .sign(sign), .mag(mag), .lsbexp(lsbexp), .code(f32));
    wire [3:0]  c4;
    wire [7:0]  c8;
    wire [15:0] c16;
    generate
        if (has(M_P4)) begin : g_p4
            enc_posit #(.N(4), .ES(1), .WM(41), .EW(12), .NORM(1), .PIPE(1)) u (.clk(clk), .rst(rst), .ce(ce), .sign(sign), .mag(mag), .lsbexp(lsbexp), .code(c4));
        end else begin : g_p4n
            assign c4 = 4'd0;
        end
        if (has(M_P8)) begin : g_p8
            enc_posit #(.N(8), .ES(0), .WM(41), .EW(12), .NORM(1), .PIPE(1)) u (.clk(clk), .rst(rst), .ce(ce), .sign(sign), .mag(mag), .lsbexp(lsbexp), .code(c8));
        end else begin : g_p8n
            assign c8 = 8'd0;
        end
        if (has(M_P16)) begin : g_p16
            enc_posit #(.N(16), .ES(1), .WM(41), .EW(12), .NORM(1), .PIPE(1)) u (.clk(clk), .rst(rst), .ce(ce), .sign(sign), .mag(mag), .lsbexp(lsbexp), .code(c16));
        end else begin : g_p16n
            assign c16 = 16'd0;
        end
    endgenerate
    // int32: RNE to an integer, then saturation
    wire [31:0] i32;
    enc_int32 #(.PIPE(1)) u_i32 (.clk(clk), .rst(rst), .ce(ce), .sign(sign), .sig(sig), .st(st),
                                 .mexp(mexp), .zero(zero), .code(i32));
    wire [1:0] cls2;
    pipe_reg #(.W(2), .EN(1)) u_cls (.clk(clk), .rst(rst), .ce(ce), .d(cls), .q(cls2));
    wire is_posit = (mode == M_P4) || (mode == M_P8) || (mode == M_P16);
    wire is_int = (mode == M_INT4) || (mode == M_INT8);
    always @* begin
        if (fp32 || !(is_posit || is_int)) begin
            y = (cls2 == 2'd1) ? 32'h7fc00000 : (cls2 == 2'd2) ? 32'h7f800000 :
                (cls2 == 2'd3) ? 32'hff800000 : f32;
        end else if (is_int) begin
            y = i32;
        end else begin
            case (mode)
                M_P4:  y = (cls2 != 2'd0) ? 32'h8 : {28'd0, c4};
                M_P8:  y = (cls2 != 2'd0) ? 32'h80 : {24'd0, c8};
                default: y = (cls2 != 2'd0) ? 32'h8000 : {16'd0, c16};
            endcase
        end
    end
endmodule
