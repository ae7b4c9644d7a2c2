// Separate-units baseline of the reconfigurable engine (the comparison of XR-NPE's claim that a
// reconfigurable unit saves area and power against separate units): one single-mode
// mac_engine per mode bit set in MODES (each unit MODES = 1 << id, same LANES, ACC, FIX_I,
// FIX_F: same accumulator and readout), with exactly mac_engine's parameters and ports.
//
// Contract: for every command stream whose beats carry compiled modes and in which every lane,
// after its mode changes, gets an enabled CLEAR before its next enabled ACC or READ, sep_engine
// gives the same in_ready, out_valid and out_y, cycle for cycle, as mac_engine with the same
// parameters (READ -> out_valid 14 cycles; back-pressure as mac_engine's).  Streams outside
// the contract differ by construction: mac_engine has one register per lane shared by all modes,
// here each mode has its own.  A beat whose in_mode is not compiled reaches no unit (every
// lane holds; its READ still gives out_valid with the lanes' last values), where mac_engine
// would run it through the decoders of the compiled modes.
//
// How: every unit sees every beat (in_valid, in_op), so all units are in lockstep, hold
// together under back-pressure and raise out_valid together (unit 0's handshake is the
// engine's).  A unit whose mode is not the beat's gets its lanes disabled (in_lane_en = 0, so
// its registers hold still, as a disabled lane of mac_engine), its operands, scales and fp32
// flag held at zero (operand isolation) and in_mode = its own id.  A lane's output in
// mac_engine is its last enabled READ's result; here a 13-stage pipeline carries each READ's
// unit and lane enables beside the units' own, and per lane the unit of its last enabled READ
// selects the output.
module sep_engine #(
    parameter LANES = 1,
    parameter integer MODES = 1023,         // bit i: a unit for mode i (ids: rtl/README.md)
    parameter integer ACC = 0,              // as mac_engine: 0 exact, 1 fp32, 2 fixed(FIX_I, FIX_F)
    parameter integer FIX_I = 24,
    parameter integer FIX_F = 24,
    parameter integer PIPE = 0              // as mac_engine: 1 = the deep pipeline (READ -> 15 cycles)
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                in_valid,
    output wire                in_ready,
    input  wire [1:0]          in_op,
    input  wire [3:0]          in_mode,
    input  wire                in_fp32,
    input  wire [16*LANES-1:0] in_a,
    input  wire [16*LANES-1:0] in_b,
    input  wire [8*LANES-1:0]  in_scale_a,
    input  wire [8*LANES-1:0]  in_scale_b,
    input  wire [LANES-1:0]    in_lane_en,
    output wire                out_valid,
    input  wire                out_ready,
    output wire [32*LANES-1:0] out_y
);
    localparam N_IDS = 10;                  // mode ids 0..9 (rtl/modes.py)
    localparam OP_READ = 2'd2;
    localparam NS = 13 + ((PIPE != 0) ? 1 : 0);   // register stages before the output, as mac_engine

    function integer count_below(input integer mask, input integer id);   // units before mode id
        integer i;
        begin
            count_below = 0;
            for (i = 0; i < id; i = i + 1)
                if (((mask >> i) & 1) != 0) count_below = count_below + 1;
        end
    endfunction
    localparam integer NU = count_below(MODES, N_IDS);          // number of units
    localparam integer SB = (NU > 8) ? 4 : (NU > 4) ? 3 : (NU > 2) ? 2 : 1;   // unit index bits

    // unit index of the beat's mode and whether it is compiled
    reg [SB-1:0] sel_in, unit_of_m;
    reg          hit_in;
    integer m;
    always @* begin
        sel_in = {SB{1'b0}};
        hit_in = 1'b0;
        unit_of_m = {SB{1'b0}};
        for (m = 0; m < N_IDS; m = m + 1)
            if (((MODES >> m) & 1) != 0) begin
                if ({28'd0, in_mode} == m) begin
                    sel_in = unit_of_m;
                    hit_in = 1'b1;
                end
                unit_of_m = unit_of_m + 1'b1;
            end
    end

    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the units run in lockstep, so unit 0's
    wire [NU-1:0] u_ready, u_valid;         // handshake stands for every unit's
    /* verilator lint_on UNUSEDSIGNAL */
    wire [32*LANES*NU-1:0] ys;              // unit u's out_y at [32*LANES*u +: 32*LANES]
    assign in_ready = u_ready[0];
    assign out_valid = u_valid[0];
    wire adv = ~out_valid | out_ready;      // the units' pipelines move (mac_engine's adv)

    genvar g;
    generate
        for (g = 0; g < N_IDS; g = g + 1) begin : g_unit
            if (((MODES >> g) & 1) != 0) begin : g_on
                localparam integer U = count_below(MODES, g);
                wire on = hit_in && (in_mode == g);
                mac_engine #(.LANES(LANES), .MODES(1 << g), .ACC(ACC), .FIX_I(FIX_I), .FIX_F(FIX_F), .PIPE(PIPE)) u_eng (
                    .clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(u_ready[U]), .in_op(in_op),
                    .in_mode(g), .in_fp32(in_fp32 & on),
                    .in_a(in_a & {16*LANES{on}}), .in_b(in_b & {16*LANES{on}}),
                    .in_scale_a(in_scale_a & {8*LANES{on}}), .in_scale_b(in_scale_b & {8*LANES{on}}),
                    .in_lane_en(in_lane_en & {LANES{on}}),
                    .out_valid(u_valid[U]), .out_ready(out_ready), .out_y(ys[32*LANES*U +: 32*LANES]));
            end
        end
    endgenerate

    // READ tracking: per stage, the lanes a READ loads (0 for other beats) and its unit
    reg [LANES*NS-1:0] ren;                 // stage k at [LANES(k-1) +: LANES]
    reg [SB*NS-1:0]    rsel;                // stage k at [SB(k-1) +: SB]
    wire rd_in = in_valid & hit_in & (in_op == OP_READ);
    always @(posedge clk) begin
        if (rst) begin
            ren <= {LANES*NS{1'b0}}; rsel <= {SB*NS{1'b0}};
        end else if (adv) begin
            ren <= {ren[LANES*NS-LANES-1:0], in_lane_en & {LANES{rd_in}}};
            rsel <= {rsel[SB*NS-SB-1:0], sel_in & {SB{rd_in}}};
        end
    end

    // per lane: the unit of the last enabled READ (its out register holds that READ's result)
    genvar l;
    generate
        for (l = 0; l < LANES; l = l + 1) begin : g_lane
            reg [SB-1:0] last;
            always @(posedge clk) begin
                if (rst) last <= {SB{1'b0}};
                else if (adv && ren[LANES*(NS-1) + l]) last <= rsel[SB*(NS-1) +: SB];
            end
            reg [31:0] y;
            integer u;
            always @* begin
                y = 32'd0;
                for (u = 0; u < NU; u = u + 1)
                    if ({{(32-SB){1'b0}}, last} == u) y = ys[32*LANES*u + 32*l +: 32];
            end
            assign out_y[32*l +: 32] = y;
        end
    endgenerate
endmodule
