// SIMD MAC engine: LANES independent lanes sharing one command stream (see rtl/README.md).
//   beat = {op, mode, fp32, per-lane operand words a/b, per-lane MX scales, lane enables},
//   op 0 ACC (one 16-bit word pair per lane), 1 CLEAR, 2 READ.
// Pipeline: s1 operand registers, s2 decode + multiply, s3 align + accumulate / read capture,
// s4 MX FP32 add; out register.  READ -> out_valid: 4 cycles (MX modes: 5), as sim.mac.LATENCY.
// Back-pressure: while out_valid is high and out_ready low, the whole pipeline holds and
// in_ready is low.
module mac_engine #(
    parameter LANES = 1,
    parameter integer MODES = 1023,         // bit i compiles mode i in (ids: rtl/README.md)
    parameter integer ACC = 0,              // accumulator of the non-MX modes: 0 exact, 1 fp32,
    parameter integer FIX_I = 24,           //   2 ("fixed", FIX_I, FIX_F): FIX_I integer bits (sign
    parameter integer FIX_F = 24            //   included) and FIX_F fraction bits, 2 <= I, I + F <= 60
) (
    input  wire                clk,
    input  wire                rst,             // synchronous, active high
    input  wire                in_valid,
    output wire                in_ready,
    input  wire [1:0]          in_op,
    input  wire [3:0]          in_mode,
    input  wire                in_fp32,         // READ: 1 = FP32 readout, 0 = native format
    input  wire [16*LANES-1:0] in_a,
    input  wire [16*LANES-1:0] in_b,
    input  wire [8*LANES-1:0]  in_scale_a,      // MX: E8M0 block scales (first beat of a block)
    input  wire [8*LANES-1:0]  in_scale_b,
    input  wire [LANES-1:0]    in_lane_en,      // 0: the lane ignores this beat (holds still)
    output reg                 out_valid,
    input  wire                out_ready,
    output wire [32*LANES-1:0] out_y
);
`include "mac_defs.vh"
    // register width: exact, the widest compiled mode's; fixed, I + F; fp32, the 24-bit significand
    // of the readout; with MX modes compiled in, at least their 21-bit block register
    localparam integer W_MX = acc_width(MODES & MASK_MX);
    localparam integer W_ACC = (ACC == 0) ? acc_width(MODES) : (ACC == 2) ? FIX_I + FIX_F : 24;
    localparam W = (W_ACC > W_MX) ? W_ACC : W_MX;
    localparam OP_READ = 2'd2;

    wire adv = ~out_valid | out_ready;
    assign in_ready = adv;
    wire fire = in_valid & adv;

    reg        v1, v2, v3, v4;
    reg [1:0]  op1, op2, op3, op4;
    reg [3:0]  md1, md2, md3, md4;
    reg        f1, f2, f3;
    reg [LANES-1:0] en1, en2, en3, en4;
    always @(posedge clk) begin
        if (rst) begin
            v1 <= 1'b0; v2 <= 1'b0; v3 <= 1'b0; v4 <= 1'b0;
            op1 <= 2'd0; op2 <= 2'd0; op3 <= 2'd0; op4 <= 2'd0;
            md1 <= 4'd0; md2 <= 4'd0; md3 <= 4'd0; md4 <= 4'd0;
            f1 <= 1'b0; f2 <= 1'b0; f3 <= 1'b0;
            en1 <= {LANES{1'b0}}; en2 <= {LANES{1'b0}}; en3 <= {LANES{1'b0}}; en4 <= {LANES{1'b0}};
        end else if (adv) begin
            v1 <= in_valid; op1 <= in_op; md1 <= in_mode; f1 <= in_fp32; en1 <= in_lane_en;
            v2 <= v1; op2 <= op1; md2 <= md1; f2 <= f1; en2 <= en1;
            v3 <= v2; op3 <= op2; md3 <= md2; f3 <= f2; en3 <= en2;
            v4 <= v3; op4 <= op3; md4 <= md3; en4 <= en3;
        end
    end
    wire mx3 = (md3 == M_MXFP4) || (md3 == M_MXINT8);
    wire mx4 = (md4 == M_MXFP4) || (md4 == M_MXINT8);
    wire rd3 = adv & v3 & (op3 == OP_READ) & ~mx3;     // non-MX READ leaves stage 3 -> out
    wire rd4 = adv & v4 & (op4 == OP_READ) & mx4;      // MX READ leaves stage 4 -> out
    always @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (adv) out_valid <= rd3 | rd4;
    end

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire [31:0] y;
            mac_lane #(.MODES(MODES), .W(W), .ACC(ACC), .FI(FIX_I), .FF(FIX_F)) u_lane (
                .clk(clk), .rst(rst),
                .ld1(fire & in_lane_en[l]), .a(in_a[16*l +: 16]), .b(in_b[16*l +: 16]),
                .scale_a(in_scale_a[8*l +: 8]), .scale_b(in_scale_b[8*l +: 8]),
                .ld2(adv & v1 & en1[l]), .mode1(md1),
                .ld3(adv & v2 & en2[l]), .op2(op2), .mode2(md2),
                .ld4(adv & v3 & en3[l]), .mode3(md3), .fp32_3(f3),
                .ldy3(rd3 & en3[l]), .ldy4(rd4 & en4[l]), .y(y));
            assign out_y[32*l +: 32] = y;
        end
    endgenerate
endmodule
