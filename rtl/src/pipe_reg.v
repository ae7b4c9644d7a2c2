// An optional pipeline register: with EN = 1, q takes d on a clock edge with ce (synchronous
// reset to 0); with EN = 0 it is a wire.  Modules that can run combinationally or split over
// two cycles (the encoders, the FP32 adder) put their cut through one of these.
module pipe_reg #(
    parameter integer W = 1,
    parameter integer EN = 1
) (
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: a wire (EN = 0) has no clock
    input  wire         clk,
    input  wire         rst,
    input  wire         ce,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
    generate
        if (EN != 0) begin : g_reg
            reg [W-1:0] r;
            always @(posedge clk) begin
                if (rst) r <= {W{1'b0}};
                else if (ce) r <= d;
            end
            assign q = r;
        end else begin : g_wire
            assign q = d;
        end
    endgenerate
endmodule
