// Plain stimulus/response testbench (no cocotb): reads one beat per line from +in=FILE,
// drives the engine back to back (optional pseudo-random gaps: +gaps=PERCENT), keeps out_ready
// high, and writes one line per output: "<cycle> <out_y hex>" to +out=FILE.  The last line is
// "done <cycles>".  Beat line (hex): op mode fp32 lane_en a b scale_a scale_b  (a, b, scales:
// all lanes, lane 0 in the low bits).  Used by rtl.run and the exhaustive tests.
`timescale 1ns/1ps
module tb_stream;
    parameter integer LANES = 1;
    parameter integer MODES = 1023;
    parameter integer ACC = 0;          // 0 exact, 1 fp32, 2 fixed (FIX_I, FIX_F)
    parameter integer FIX_I = 24;
    parameter integer FIX_F = 24;
    parameter integer PIPE = 0;         // the engine's pipeline (0, or 1: the deep one)
    reg clk = 1'b0;
    reg rst = 1'b1;
    reg in_valid = 1'b0;
    wire in_ready;
    reg [1:0] in_op = 2'd0;
    reg [3:0] in_mode = 4'd0;
    reg in_fp32 = 1'b0;
    reg [16*LANES-1:0] in_a = 0, in_b = 0;
    reg [8*LANES-1:0] in_sa = 0, in_sb = 0;
    reg [LANES-1:0] in_en = 0;
    wire out_valid;
    wire [32*LANES-1:0] out_y;
    mac_engine #(.LANES(LANES), .MODES(MODES), .ACC(ACC), .FIX_I(FIX_I), .FIX_F(FIX_F), .PIPE(PIPE)) dut (
        .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_op(in_op),
        .in_mode(in_mode), .in_fp32(in_fp32), .in_a(in_a), .in_b(in_b), .in_scale_a(in_sa),
        .in_scale_b(in_sb), .in_lane_en(in_en), .out_valid(out_valid), .out_ready(1'b1),
        .out_y(out_y));

    integer fin, fout, n, cycle, pending, gaps, lfsr, outs, expect_outs;
    reg [1023:0] fname_in, fname_out;
    reg [31:0] t_op, t_mode, t_fp32;
    reg [LANES-1:0] t_en;
    reg [16*LANES-1:0] t_a, t_b;
    reg [8*LANES-1:0] t_sa, t_sb;
    reg have, eof;
    initial begin
        if (!$value$plusargs("in=%s", fname_in)) begin $display("tb_stream: need +in=FILE"); $finish; end
        if (!$value$plusargs("out=%s", fname_out)) begin $display("tb_stream: need +out=FILE"); $finish; end
        if (!$value$plusargs("gaps=%d", gaps)) gaps = 0;
        if (!$value$plusargs("reads=%d", expect_outs)) expect_outs = -1;
        fin = $fopen(fname_in, "r");
        fout = $fopen(fname_out, "w");
        if (fin == 0 || fout == 0) begin $display("tb_stream: cannot open files"); $finish; end
        lfsr = 32'h1234567;
        cycle = 0; outs = 0; pending = 0; have = 1'b0; eof = 1'b0;
        repeat (2) @(posedge clk);
        #1 rst = 1'b0;
        cycle = 1;                         // the cycle the first beat is presented in
        forever begin
            if (out_valid) begin
                $fwrite(fout, "%0d %h\n", cycle, out_y);
                outs = outs + 1;
            end
            if (eof && !have && (expect_outs >= 0 ? outs >= expect_outs : pending > 12)) begin
                $fwrite(fout, "done %0d\n", cycle);
                $fclose(fout);
                $finish;
            end
            if (!have && !eof) begin
                n = $fscanf(fin, "%h %h %h %h %h %h %h %h\n", t_op, t_mode, t_fp32, t_en, t_a, t_b, t_sa, t_sb);
                if (n == 8) have = 1'b1; else eof = 1'b1;
            end
            if (eof && !have) pending = pending + 1;
            lfsr = {lfsr[30:0], lfsr[31] ^ lfsr[21] ^ lfsr[1] ^ lfsr[0]};
            if (have && !(gaps > 0 && ((lfsr & 32'h7fffffff) % 100) < gaps)) begin
                in_valid = 1'b1; in_op = t_op[1:0]; in_mode = t_mode[3:0]; in_fp32 = t_fp32[0];
                in_en = t_en; in_a = t_a; in_b = t_b; in_sa = t_sa; in_sb = t_sb;
                have = 1'b0;
            end else begin
                in_valid = 1'b0;
            end
            @(posedge clk);
            #1 cycle = cycle + 1;
        end
    end
    always #5 clk = ~clk;
endmodule
