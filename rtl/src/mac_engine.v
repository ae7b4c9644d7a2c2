// SIMD MAC engine: LANES independent lanes sharing one command stream (see rtl/README.md).
//   beat = {op, mode, fp32, per-lane operand words a/b, per-lane MX scales, lane enables},
//   op 0 ACC (one 16-bit word pair per lane), 1 CLEAR, 2 READ.
// Pipeline (a beat is in register stage k in the k-th cycle after it is accepted; details in
// mac_lane and rtl/README.md): s1 operands, s2 decode, s3 multiply, s4 align, s5 accumulate
// (READ: capture), s6-s13 readout (resolve, |acc|, normalise, encode: two stages each);
// MX: the block's FP32 addition in s6-s10 and the READ's in s10-s14; out register after s13.
// nvfp4: the block's FP32 addition in s6-s9, the READ's in s9-s12, times the tensor scales in
// s13, rounded in s14 (nv_acc).
// READ -> out_valid: 14 cycles in every mode, as sim.mac.LATENCY.
// PIPE = 1 (sim.mac.LATENCIES[1]): the multiplier over two stages (every stage from s3 on one
// later) and one more READ stage before the out register (each readout result registered
// before the output's mode multiplexer): 16 cycles in every mode.
// Back-pressure: while out_valid is high and out_ready low, the whole pipeline holds and
// in_ready is low.
module mac_engine #(
    parameter LANES = 1,
    parameter integer MODES = 2047,         // bit i compiles mode i in (ids: rtl/README.md)
    parameter integer ACC = 0,              // accumulator of the non-MX modes: 0 exact, 1 fp32,
    parameter integer FIX_I = 24,           //   2 ("fixed", FIX_I, FIX_F): FIX_I integer bits (sign
    parameter integer FIX_F = 24,           //   included) and FIX_F fraction bits, 2 <= I, I + F <= 60
    parameter integer PIPE = 0              // 0: this pipeline (READ latency 14); 1: the deep one (16)
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
    localparam integer W_MX = acc_width(dp_modes(MODES) & MASK_MX);   // nvfp4: mxfp4's block register
    // (PIPE = 1: the 59-bit frame of the READ's exact sum of two FP32 partial sums, f32_sum2)
    localparam integer W_ACC = (ACC == 0) ? acc_width(MODES) : (ACC == 2) ? FIX_I + FIX_F : (PIPE != 0) ? 59 : 24;
    localparam W = (W_ACC > W_MX) ? W_ACC : W_MX;
    localparam OP_READ = 2'd2;
    localparam integer XM = (PIPE != 0) ? 1 : 0;    // PIPE = 1: stages from s3 on are one later
    localparam integer XR = (PIPE != 0) ? 1 : 0;    // PIPE = 1: one more READ stage before the out register
    localparam NS = 13 + XM + XR;           // register stages a beat passes before the output

    wire adv = ~out_valid | out_ready;
    assign in_ready = adv;
    wire fire = in_valid & adv;

    // stage k (1..NS) control: valid, op, mode, fp32 readout, lane enables
    reg [NS:1]      v;
    reg [2*NS-1:0]  op;                     // stage k at [2(k-1) +: 2]
    reg [4*NS-1:0]  md;                     // stage k at [4(k-1) +: 4]
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the fp32 flag is read in stage 12 + XM only
    reg [NS:1]      f;
    /* verilator lint_on UNUSEDSIGNAL */
    reg [LANES*NS-1:0] en;                  // stage k at [LANES(k-1) +: LANES]
    always @(posedge clk) begin
        if (rst) begin
            v <= {NS{1'b0}}; op <= {2*NS{1'b0}}; md <= {4*NS{1'b0}}; f <= {NS{1'b0}};
            en <= {LANES*NS{1'b0}};
        end else if (adv) begin
            v <= {v[NS-1:1], in_valid};
            op <= {op[2*NS-3:0], in_op};
            md <= {md[4*NS-5:0], in_mode};
            f <= {f[NS-1:1], in_fp32};
            en <= {en[LANES*NS-LANES-1:0], in_lane_en};
        end
    end
    wire rd_out = adv & v[NS] & (op[2*(NS-1) +: 2] == OP_READ);  // a READ leaves the last stage
    always @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else if (adv) out_valid <= rd_out;
    end

    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            wire [31:0] y;
            wire [NS:1] ld;                 // ld[k]: the beat in stage k moves on, for this lane
            genvar k;
            for (k = 1; k <= NS; k = k + 1) begin : g_ld
                assign ld[k] = adv & v[k] & en[LANES*(k-1) + l];
            end
            mac_lane #(.MODES(MODES), .W(W), .ACC(ACC), .FI(FIX_I), .FF(FIX_F), .PIPE(PIPE)) u_lane (
                .clk(clk), .rst(rst),
                .ld1(fire & in_lane_en[l]), .a(in_a[16*l +: 16]), .b(in_b[16*l +: 16]),
                .scale_a(in_scale_a[8*l +: 8]), .scale_b(in_scale_b[8*l +: 8]),
                .ld(ld), .op1(op[0 +: 2]), .op4(op[2*(3+XM) +: 2]), .op13(op[2*(NS-1) +: 2]),
                .md1(md[0 +: 4]), .md3(md[8 +: 4]), .md4(md[4*(3+XM) +: 4]),
                .md7(md[4*(6+XM) +: 4]), .md12(md[4*(11+XM) +: 4]), .f12(f[12+XM]), .md13(md[4*(NS-1) +: 4]), .y(y));
            assign out_y[32*l +: 32] = y;
        end
    endgenerate
endmodule
