// One lane of the engine: decode -> reconfigurable multiply -> align + accumulate (exact, fixed
// or fp32 register, chosen at build time by ACC) -> readout, plus the MX path (exact block sums
// added into an FP32 sum; MX modes use it whatever ACC is).  The pipeline control
// (valid, op, mode of each stage, stall) comes from mac_engine; a lane whose enable bit is low
// for a beat keeps every register of that beat still.
module mac_lane #(
    parameter integer MODES = 1023,
    parameter W = 130,              // register width (exact: widest mode; fixed: >= FI + FF)
    parameter integer ACC = 0,      // 0 exact, 1 fp32, 2 ("fixed", FI, FF)
    parameter integer FI = 24,
    parameter integer FF = 24
) (
    input  wire        clk,
    input  wire        rst,
    // stage 1 load (the accepted beat)
    input  wire        ld1,
    input  wire [15:0] a,
    input  wire [15:0] b,
    input  wire [7:0]  scale_a,
    input  wire [7:0]  scale_b,
    // stage 2: decode + multiply of the stage-1 beat
    input  wire        ld2,
    input  wire [3:0]  mode1,
    // stage 3: accumulate / clear / read-capture of the stage-2 beat
    input  wire        ld3,
    input  wire [1:0]  op2,
    input  wire [3:0]  mode2,
    // stage 4: MX FP32 add of the stage-3 beat
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: used only when an MX mode is compiled in
    input  wire        ld4,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [3:0]  mode3,
    input  wire        fp32_3,
    // output register
    input  wire        ldy3,      // a non-MX READ leaves stage 3
    input  wire        ldy4,      // an MX READ leaves stage 4
    output reg  [31:0] y
);
`include "mac_defs.vh"
    localparam OP_ACC = 2'd0, OP_CLEAR = 2'd1, OP_READ = 2'd2;
    // which multiplier splits the compiled modes need (bit0 4-way, bit1 2-way, bit2 1-way)
    localparam integer K4 = ((MODES >> M_INT4) & 1) | ((MODES >> M_FP4) & 1) | ((MODES >> M_P4) & 1) | ((MODES >> M_MXFP4) & 1);
    localparam integer K1 = (MODES >> M_P16) & 1;
    localparam integer K2 = (((MODES >> M_INT8) | (MODES >> M_P8) | (MODES >> M_E4M3) | (MODES >> M_E5M2) | (MODES >> M_MXINT8)) & 1);
    localparam integer KMASK = K4 | (K2 << 1) | (K1 << 2);
    localparam HAS_MX = ((MODES >> M_MXFP4) & 1) | ((MODES >> M_MXINT8) & 1);

    // ---- stage 1: operand registers
    reg [15:0] a1, b1;
    reg [7:0]  sa1, sb1;
    always @(posedge clk) begin
        if (rst) begin
            a1 <= 16'd0; b1 <= 16'd0; sa1 <= 8'd0; sb1 <= 8'd0;
        end else if (ld1) begin
            a1 <= a; b1 <= b; sa1 <= scale_a; sb1 <= scale_b;
        end
    end

    // ---- stage 2: decoders, reconfigurable multiplier, exponent adders, special flags
    wire [15:0] ma, mb;
    wire [3:0]  sga, sgb;
    wire [27:0] sha, shb;
    wire [7:0]  ca, cb;
    dec_word #(.MODES(MODES)) u_deca (.word(a1), .mode(mode1), .pmag(ma), .sign(sga), .sh(sha), .cls(ca));
    dec_word #(.MODES(MODES)) u_decb (.word(b1), .mode(mode1), .pmag(mb), .sign(sgb), .sh(shb), .cls(cb));
    wire [1:0] kmode1 = (mode_k_of(mode1) == 4) ? 2'd0 : (mode_k_of(mode1) == 2) ? 2'd1 : 2'd2;
    function integer mode_k_of(input [3:0] m);
        // only the compiled modes' k values are possible, so that synthesis prunes the rest
        integer kk, i;
        begin
            kk = 0;
            for (i = 0; i < N_MODES; i = i + 1)
                if (((MODES >> i) & 1) != 0 && {28'd0, m} == i) kk = mode_k(i);
            if (kk == 0)
                for (i = N_MODES - 1; i >= 0; i = i - 1)
                    if (((MODES >> i) & 1) != 0) kk = mode_k(i);
            mode_k_of = kk;
        end
    endfunction
    wire [31:0] prod;
    rmul16 #(.KMASK(KMASK)) u_mul (.a(ma), .b(mb), .kmode(kmode1), .p(prod));
    reg [27:0] psh;
    reg [3:0]  psg;
    reg [2:0]  pfl;                 // 1 NaN, 2 +Inf, 4 -Inf seen in this word pair
    integer s;
    reg za, zb, ia, ib;
    always @* begin
        pfl = 3'd0;
        for (s = 0; s < 4; s = s + 1) begin
            psh[7*s +: 7] = sha[7*s +: 7] + shb[7*s +: 7];
            psg[s] = sga[s] ^ sgb[s];
            za = (kmode1 == 2'd0) ? (ma[4*s +: 4] == 0) : (kmode1 == 2'd1) ? (ma[(8*s) % 16 +: 8] == 0) : (ma == 0);
            zb = (kmode1 == 2'd0) ? (mb[4*s +: 4] == 0) : (kmode1 == 2'd1) ? (mb[(8*s) % 16 +: 8] == 0) : (mb == 0);
            ia = ca[2*s +: 2] >= 2'd2;
            ib = cb[2*s +: 2] >= 2'd2;
            if (ca[2*s +: 2] == 2'd1 || cb[2*s +: 2] == 2'd1) pfl = pfl | 3'd1;
            else if ((ia && zb && !ib) || (ib && za && !ia)) pfl = pfl | 3'd1;
            else if (ia || ib) begin
                // sign of the product: +Inf/-Inf carry their own sign, finite operands their sign bit
                if (((ia ? ca[2*s] : sga[s]) ^ (ib ? cb[2*s] : sgb[s])) == 1'b0) pfl = pfl | 3'd2;
                else pfl = pfl | 3'd4;
            end
        end
    end
    reg [31:0] p2;
    reg [27:0] psh2;
    reg [3:0]  psg2;
    reg [2:0]  pfl2;
    reg [1:0]  kmode2;
    reg [7:0]  sa2, sb2;
    always @(posedge clk) begin
        if (rst) begin
            p2 <= 32'd0; psh2 <= 28'd0; psg2 <= 4'd0; pfl2 <= 3'd0; kmode2 <= 2'd0; sa2 <= 8'd0; sb2 <= 8'd0;
        end else if (ld2) begin
            p2 <= prod; psh2 <= psh; psg2 <= psg; pfl2 <= pfl; kmode2 <= kmode1; sa2 <= sa1; sb2 <= sb1;
        end
    end

    // ---- stage 3: alignment + exact accumulator; read capture
    localparam WF = FI + FF;
    reg signed [W-1:0] acc;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: only the fp32 accumulator (ACC = 1) reads all of it
    reg [31:0] accf;                // the fp32 accumulator (ACC = 1)
    /* verilator lint_on UNUSEDSIGNAL */
    reg [2:0] flags;
    wire [103:0] pm2;
    prod_slots #(.MODES(MODES), .KMASK(KMASK)) u_slots (.p(p2), .kmode(kmode2), .pm(pm2));
    wire signed [W-1:0] acc_next;   // exact add (and the MX block sums)
    align_acc #(.MODES(MODES), .W(W)) u_acc (.pm(pm2), .psh(psh2), .psign(psg2), .acc(acc), .sum(acc_next));
    wire signed [W-1:0] acc_fix;    // fixed: truncate, clamp, saturating add (ACC = 2)
    wire [31:0] accf_next;          // fp32: fused adds in sub-word order (ACC = 1)
    wire [W-1:0] f32sig;            // fp32: the register's significand, hidden bit included
    generate
        if (ACC == 2) begin : g_fix
            wire signed [WF-1:0] fsum;
            fixed_acc #(.WF(WF), .FF(FF)) u_fix (.pm(pm2), .psh(psh2), .psign(psg2),
                .mode(mode2), .acc(acc[WF-1:0]), .sum(fsum));
            assign acc_fix = {{(W-WF){fsum[WF-1]}}, fsum};
            assign accf_next = 32'd0;
            assign f32sig = {W{1'b0}};
        end else if (ACC == 1) begin : g_f32
            fp32_acc #(.MODES(MODES)) u_f32 (.pm(pm2), .psh(psh2), .psign(psg2), .mode(mode2),
                .acc(accf), .sum(accf_next));
            assign acc_fix = {W{1'b0}};
            assign f32sig = {{(W-24){1'b0}}, (accf[30:23] != 8'd0), accf[22:0]};
        end else begin : g_exact
            assign acc_fix = {W{1'b0}};
            assign accf_next = 32'd0;
            assign f32sig = {W{1'b0}};
        end
    endgenerate
    // the exact accumulator wraps at the mode's own width, as sim's register does
    reg signed [W-1:0] accw;
    integer i;
    always @* begin
        accw = acc;
        if (ACC == 0)
            for (i = 0; i < N_MODES; i = i + 1)
                if (((MODES >> i) & 1) != 0 && {28'd0, mode2} == i && mode_width(i) < W)
                    accw = (acc <<< (W - mode_width(i))) >>> (W - mode_width(i));
    end
    // sign-extended copies: MX block sums are 21 bits, whatever W is
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: only the low 21 bits are used
    wire signed [W+20:0] acc_next_x = {{21{acc_next[W-1]}}, acc_next};
    wire signed [W+20:0] acc_x = {{21{acc[W-1]}}, acc};
    /* verilator lint_on UNUSEDSIGNAL */
    reg         rsign;
    reg [W-1:0] rmag;
    reg [1:0]   rcls;
    reg signed [11:0] rexp;         // fp32: exponent of the captured significand's LSB
    // MX block state (unused, and pruned, when no MX mode is compiled in)
    /* verilator lint_off UNUSEDSIGNAL */
    reg [3:0]  cnt;                 // word pairs of the open block
    reg [7:0]  bsa, bsb;            // scales of the open block
    reg        pend_add, pend_rd, pend_open;
    reg signed [20:0] pend_sum;
    reg [7:0]  pend_sa, pend_sb;
    reg [3:0]  pend_mode;
    /* verilator lint_on UNUSEDSIGNAL */
    wire is_mx2 = (HAS_MX != 0) && (mode2 == M_MXFP4 || mode2 == M_MXINT8);
    wire [3:0] per_block = (mode2 == M_MXFP4) ? 4'd7 : 4'd15;   // word pairs per block - 1
    wire [7:0] cur_sa = (cnt == 4'd0) ? sa2 : bsa;
    wire [7:0] cur_sb = (cnt == 4'd0) ? sb2 : bsb;
    always @(posedge clk) begin
        if (rst) begin
            acc <= {W{1'b0}}; accf <= 32'd0; flags <= 3'd0; rsign <= 1'b0; rmag <= {W{1'b0}}; rcls <= 2'd0;
            rexp <= 12'sd0;
            cnt <= 4'd0; bsa <= 8'd0; bsb <= 8'd0; pend_add <= 1'b0; pend_rd <= 1'b0; pend_open <= 1'b0;
            pend_sum <= 21'sd0; pend_sa <= 8'd0; pend_sb <= 8'd0; pend_mode <= 4'd0;
        end else if (ld3) begin
            pend_add <= 1'b0;
            pend_rd <= 1'b0;
            case (op2)
                OP_CLEAR: begin
                    acc <= {W{1'b0}}; accf <= 32'd0; flags <= 3'd0; cnt <= 4'd0;
                end
                OP_ACC: begin
                    flags <= flags | pfl2;
                    if (is_mx2) begin
                        if (cnt == 4'd0) begin bsa <= sa2; bsb <= sb2; end
                        if (cnt == per_block) begin
                            cnt <= 4'd0;
                            acc <= {W{1'b0}};
                            pend_add <= 1'b1;
                            pend_sum <= acc_next_x[20:0];
                            pend_sa <= cur_sa; pend_sb <= cur_sb; pend_mode <= mode2;
                        end else begin
                            cnt <= cnt + 4'd1;
                            acc <= acc_next;
                        end
                    end else if (ACC == 1) begin
                        accf <= accf_next;
                    end else if (ACC == 2) begin
                        acc <= acc_fix;
                    end else begin
                        acc <= acc_next;
                    end
                end
                OP_READ: begin
                    if (ACC == 1 && !is_mx2) begin
                        rsign <= accf[31];
                        rmag <= f32sig;
                        rexp <= ((accf[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, accf[30:23]})) - 12'sd150;
                    end else begin
                        rsign <= accw[W-1];
                        rmag <= accw[W-1] ? -accw : accw;
                    end
                    rcls <= (flags[0] || flags[2:1] == 2'b11) ? 2'd1 : flags[1] ? 2'd2 : flags[2] ? 2'd3 : 2'd0;
                    pend_rd <= 1'b1;
                    pend_open <= (cnt != 4'd0);
                    pend_sum <= acc_x[20:0];
                    pend_sa <= bsa; pend_sb <= bsb; pend_mode <= mode2;
                end
                default: ;
            endcase
        end
    end

    // ---- stage 4 (MX only): FP32 sum += block sum * 2^(2 lsb + scales); read of the open block
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: MX-only registers in configs without MX
    reg [31:0] acc32, rd32;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (HAS_MX != 0) begin : g_mx
            wire [31:0] fsum;
            wire signed [9:0] lsb2 = (pend_mode == M_MXFP4) ? -10'sd2 : -10'sd12;   // mxint8 elements: int8 * 2^-6
            mx_fadd u_fadd (.acc(acc32), .bsum(pend_sum), .sa(pend_sa), .sb(pend_sb), .lsb2(lsb2),
                            .sum(fsum));
            always @(posedge clk) begin
                if (rst) begin
                    acc32 <= 32'd0; rd32 <= 32'd0;
                end else begin
                    if (ld4 && pend_add) acc32 <= fsum;
                    if (ld4 && pend_rd) rd32 <= pend_open ? fsum : acc32;
                    if (ld3 && op2 == OP_CLEAR) acc32 <= 32'd0;     // a CLEAR behind a closing ACC wins
                end
            end
        end else begin : g_nomx
            always @(posedge clk) begin
                acc32 <= 32'd0; rd32 <= 32'd0;
            end
        end
    endgenerate

    // ---- readout encoder and output register
    wire [31:0] yenc;
    readout #(.MODES(MODES), .W(W), .ACC(ACC), .FF(FF)) u_rd (.mode(mode3), .fp32(fp32_3), .sign(rsign),
                                                              .mag(rmag), .rexp(rexp), .cls(rcls), .y(yenc));
    wire [31:0] ymx = (rd32[30:23] == 8'hff && rd32[22:0] != 0) ? 32'h7fc00000 : rd32;
    always @(posedge clk) begin
        if (rst) y <= 32'd0;
        else if (ldy3) y <= yenc;
        else if (ldy4) y <= ymx;
    end
endmodule
