// Readout encoder of one lane: the accumulator magnitude (or the MX FP32 sum) to the output code.
// native: int32 (saturating) for integer modes, posit(N, ES) RNE for posit modes, FP32 RNE for
// float modes; fp32 = 1: FP32 RNE for every mode.  cls: 0 finite, 1 NaN, 2 +Inf, 3 -Inf.
module readout #(
    parameter integer MODES = 1023,
    parameter W = 130
) (
    input  wire [3:0]   mode,
    input  wire         fp32,
    input  wire         sign,
    input  wire [W-1:0] mag,
    input  wire [1:0]   cls,
    output reg  [31:0]  y
);
`include "mac_defs.vh"
    function has(input integer m);
        has = ((MODES >> m) & 1) == 1;
    endfunction
    reg signed [11:0] lsb2;
    always @* begin
        case (mode)
            M_FP4:  lsb2 = -12'sd2;  M_P4:   lsb2 = -12'sd8;  M_P8: lsb2 = -12'sd12;
            M_P16:  lsb2 = -12'sd56; M_E4M3: lsb2 = -12'sd18; M_E5M2: lsb2 = -12'sd32;
            default: lsb2 = 12'sd0;
        endcase
    end
    wire [31:0] f32;
    enc_fp32 #(.WM(W), .EW(12)) u_f32 (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(f32));
    wire [3:0]  c4;
    wire [7:0]  c8;
    wire [15:0] c16;
    generate
        if (has(M_P4)) begin : g_p4
            enc_posit #(.N(4), .ES(1), .WM(W), .EW(12)) u (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(c4));
        end else begin : g_p4n
            assign c4 = 4'd0;
        end
        if (has(M_P8)) begin : g_p8
            enc_posit #(.N(8), .ES(0), .WM(W), .EW(12)) u (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(c8));
        end else begin : g_p8n
            assign c8 = 8'd0;
        end
        if (has(M_P16)) begin : g_p16
            enc_posit #(.N(16), .ES(1), .WM(W), .EW(12)) u (.sign(sign), .mag(mag), .lsbexp(lsb2), .code(c16));
        end else begin : g_p16n
            assign c16 = 16'd0;
        end
    endgenerate
    // int32 saturation
    wire [W+31:0] magx = {32'd0, mag};
    wire big = |(magx >> 31);                                   // mag >= 2^31
    wire [31:0] m32 = magx[31:0];
    wire at_min = (magx == ({{(W+31){1'b0}}, 1'b1} << 31));    // mag == 2^31
    wire [31:0] i32 = sign ? ((big && !at_min) ? 32'h80000000 : (~m32 + 1'b1))
                           : (big ? 32'h7fffffff : m32);
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
