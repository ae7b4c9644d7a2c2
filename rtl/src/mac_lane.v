// One lane of the engine, pipelined (stages as in mac_engine): s2 decode, s3 reconfigurable
// multiply, s4 align, s5 accumulate (exact, fixed or fp32 register, chosen at build time by
// ACC; READ: capture), s6/s7 resolve the exact register's carries, s8 wrap + one's complement,
// s9/s10 |acc|, s11 normalise, s12/s13 encode (readout).  The MX path (exact block sums added into an FP32
// sum; MX modes use it whatever ACC is) runs in mx_acc.  ld[k]: the beat in stage k moves on
// for this lane (it loads the stage-(k+1) registers; ld[13] loads the output, PIPE = 1: ld[15]);
// a lane whose enable bit is low for a beat keeps every register of that beat still.
// op13 and md13 are the op and mode of the last stage (the beat that loads the output).
// The exact register is segmented (SEG-bit segments, each with a 3-bit carry register into the
// next): one accumulate step is a SEG-bit addition, and the carries are resolved at READ.
// nvfp4 (MODES bit 10): the datapath is mxfp4's up to the block sums (the decoders see mode 8,
// the MX block logic counts 4-word blocks); nv_acc adds them into FP32 and applies the tensor
// scales.  All of it is under generate blocks at the end, so builds without it are unchanged.
module mac_lane #(
    parameter integer MODES = 1023,
    parameter W = 130,              // register width (exact: widest mode; fixed: >= FI + FF)
    parameter integer ACC = 0,      // 0 exact, 1 fp32, 2 ("fixed", FI, FF)
    parameter integer FI = 24,
    parameter integer FF = 24,
    parameter integer PIPE = 0      // 1: the deep pipeline (one more stage, prefix adders)
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        ld1,       // stage 1 load (the accepted beat)
    input  wire [15:0] a,
    input  wire [15:0] b,
    input  wire [7:0]  scale_a,
    input  wire [7:0]  scale_b,
    input  wire [13+((PIPE != 0) ? 2 : 0):1] ld,   // PIPE = 1: two stages more (s3a, s15)
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: op1 is read by nvfp4 builds only
    input  wire [1:0]  op1,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [1:0]  op4,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: op13's low bit is not needed
    input  wire [1:0]  op13,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [3:0]  md1,
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: md3 is used only by the fixed accumulator,
    input  wire [3:0]  md3,             // md7 only by the exact one, md13 only with MX modes
    input  wire [3:0]  md4,
    input  wire [3:0]  md7,
    input  wire [3:0]  md13,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [3:0]  md12,
    input  wire        f12,
    output reg  [31:0] y
);
`include "mac_defs.vh"
    localparam OP_ACC = 2'd0, OP_CLEAR = 2'd1, OP_READ = 2'd2;
    // which multiplier splits the compiled modes need (bit0 4-way, bit1 2-way, bit2 1-way)
    localparam integer HAS_NV = (MODES >> M_NVFP4) & 1;
    localparam integer MDP = dp_modes(MODES);   // the datapath's modes (MODES without nvfp4)
    localparam integer K4 = ((MDP >> M_INT4) & 1) | ((MDP >> M_FP4) & 1) | ((MDP >> M_P4) & 1) | ((MDP >> M_MXFP4) & 1);
    localparam integer K1 = (MDP >> M_P16) & 1;
    localparam integer K2 = (((MDP >> M_INT8) | (MDP >> M_P8) | (MDP >> M_E4M3) | (MDP >> M_E5M2) | (MDP >> M_MXINT8)) & 1);
    localparam integer KMASK = K4 | (K2 << 1) | (K1 << 2);
    localparam HAS_MX = ((MODES >> M_MXFP4) & 1) | ((MODES >> M_MXINT8) & 1);
    // PIPE = 1: the multiplier takes two stages (s3a, s3), so every stage from s3 on is one later:
    // the beat in (PIPE = 0's) stage k >= 3 is in register stage k + XM
    localparam integer XM = (PIPE != 0) ? 1 : 0;
    // PIPE = 1: one more READ stage (s15) before the out register: each readout result (the
    // encoders', MX's, nvfp4's) is registered as the beat leaves s14, and the out register's mode
    // multiplexer reads those registers (ld[13+XM+XR] loads the output)
    localparam integer XR = (PIPE != 0) ? 1 : 0;
    // the stage loads as the MX and nvfp4 units count them (PIPE = 0's numbering; nvfp4 also
    // loads the tensor-scale words as the beat leaves s1)
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: each unit reads only some of them
    wire [13:1] ldm = ld[13+XM:1+XM];
    wire [13:1] ldn = {ld[13+XM:2+XM], ld[1]};
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- s1: operand registers
    reg [15:0] a1, b1;
    reg [7:0]  sa1, sb1;
    always @(posedge clk) begin
        if (rst) begin
            a1 <= 16'd0; b1 <= 16'd0; sa1 <= 8'd0; sb1 <= 8'd0;
        end else if (ld1) begin
            a1 <= a; b1 <= b; sa1 <= scale_a; sb1 <= scale_b;
        end
    end

    // ---- s2: decoders
    wire [15:0] ma, mb;
    wire [3:0]  sga, sgb;
    wire [27:0] sha, shb;
    wire [7:0]  ca, cb;
    wire [3:0] md1d;                // the decoders' mode (nvfp4 -> mxfp4)
    dec_word #(.MODES(MDP)) u_deca (.word(a1), .mode(md1d), .pmag(ma), .sign(sga), .sh(sha), .cls(ca));
    dec_word #(.MODES(MDP)) u_decb (.word(b1), .mode(md1d), .pmag(mb), .sign(sgb), .sh(shb), .cls(cb));
    reg [15:0] ma2, mb2;
    reg [3:0]  sga2, sgb2;
    reg [27:0] sha2, shb2;
    reg [7:0]  ca2, cb2, sa2, sb2;
    reg [1:0]  kmode2;              // multiplier split of the mode (0 4-way, 1 2-way, 2 1-way)
    wire [1:0] kmode1 = (mode_k_of(md1d) == 4) ? 2'd0 : (mode_k_of(md1d) == 2) ? 2'd1 : 2'd2;
    always @(posedge clk) begin
        if (rst) begin
            kmode2 <= 2'd0;
            ma2 <= 16'd0; mb2 <= 16'd0; sga2 <= 4'd0; sgb2 <= 4'd0; sha2 <= 28'd0; shb2 <= 28'd0;
            ca2 <= 8'd0; cb2 <= 8'd0; sa2 <= 8'd0; sb2 <= 8'd0;
        end else if (ld[1]) begin
            ma2 <= ma; mb2 <= mb; sga2 <= sga; sgb2 <= sgb; sha2 <= sha; shb2 <= shb;
            ca2 <= ca; cb2 <= cb; sa2 <= sa1; sb2 <= sb1; kmode2 <= kmode1;
        end
    end

    // ---- s3: reconfigurable multiplier, exponent adders, special flags
    function integer mode_k_of(input [3:0] m);
        // only the compiled modes' k values are possible, so that synthesis prunes the rest
        integer kk, i;
        begin
            kk = 0;
            for (i = 0; i < N_MODES; i = i + 1)
                if (((MDP >> i) & 1) != 0 && {28'd0, m} == i) kk = mode_k(i);
            if (kk == 0)
                for (i = N_MODES - 1; i >= 0; i = i - 1)
                    if (((MDP >> i) & 1) != 0) kk = mode_k(i);
            mode_k_of = kk;
        end
    endfunction
    wire [31:0] prod;
    rmul16 #(.KMASK(KMASK)) u_mul (.a(ma2), .b(mb2), .kmode(kmode2), .p(prod));
    reg [27:0] psh;
    reg [3:0]  psg;
    reg [2:0]  pfl;                 // 1 NaN, 2 +Inf, 4 -Inf seen in this word pair
    integer s;
    reg za, zb, ia, ib;
    always @* begin
        pfl = 3'd0;
        for (s = 0; s < 4; s = s + 1) begin
            psh[7*s +: 7] = sha2[7*s +: 7] + shb2[7*s +: 7];
            psg[s] = sga2[s] ^ sgb2[s];
            za = (kmode2 == 2'd0) ? (ma2[4*s +: 4] == 0) : (kmode2 == 2'd1) ? (ma2[(8*s) % 16 +: 8] == 0) : (ma2 == 0);
            zb = (kmode2 == 2'd0) ? (mb2[4*s +: 4] == 0) : (kmode2 == 2'd1) ? (mb2[(8*s) % 16 +: 8] == 0) : (mb2 == 0);
            ia = ca2[2*s +: 2] >= 2'd2;
            ib = cb2[2*s +: 2] >= 2'd2;
            if (ca2[2*s +: 2] == 2'd1 || cb2[2*s +: 2] == 2'd1) pfl = pfl | 3'd1;
            else if ((ia && zb && !ib) || (ib && za && !ia)) pfl = pfl | 3'd1;
            else if (ia || ib) begin
                // sign of the product: +Inf/-Inf carry their own sign, finite operands their sign bit
                if (((ia ? ca2[2*s] : sga2[s]) ^ (ib ? cb2[2*s] : sgb2[s])) == 1'b0) pfl = pfl | 3'd2;
                else pfl = pfl | 3'd4;
            end
        end
    end
    reg [31:0] p3;
    reg [27:0] psh3;
    reg [3:0]  psg3;
    reg [2:0]  pfl3;
    reg [1:0]  km3;
    reg [7:0]  sa3, sb3;
    // PIPE = 1: stage s3a between ma2 and p3 (rmul16p's partial products, and the side values)
    wire [31:0] prod_d;
    wire [27:0] psh_d;
    wire [3:0]  psg_d;
    wire [2:0]  pfl_d;
    wire [1:0]  km_d;
    wire [7:0]  sa_d, sb_d;
    always @(posedge clk) begin
        if (rst) begin
            p3 <= 32'd0; psh3 <= 28'd0; psg3 <= 4'd0; pfl3 <= 3'd0; km3 <= 2'd0; sa3 <= 8'd0; sb3 <= 8'd0;
        end else if (ld[2+XM]) begin
            if (PIPE != 0) begin
                p3 <= prod_d; psh3 <= psh_d; psg3 <= psg_d; pfl3 <= pfl_d; km3 <= km_d; sa3 <= sa_d; sb3 <= sb_d;
            end else begin
                p3 <= prod; psh3 <= psh; psg3 <= psg; pfl3 <= pfl; km3 <= kmode2; sa3 <= sa2; sb3 <= sb2;
            end
        end
    end

    // ---- s4: alignment (exact terms; fixed: truncated, clamped products)
    localparam WF = FI + FF;
    localparam integer FFI = FF;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: only the low 12 bits are used
    wire [31:0] ff32 = FFI;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [11:0] FF12 = ff32[11:0];
    wire [103:0] pm3;
    prod_slots #(.MODES(MDP), .KMASK(KMASK)) u_slots (.p(p3), .kmode(km3), .pm(pm3));
    wire [4*W-1:0] tt;
    wire [2:0] tneg;
    align_acc #(.MODES(MDP), .W(W)) u_align (.pm(pm3), .psh(psh3), .psign(psg3), .t(tt), .neg(tneg));
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: each accumulator kind reads only its own part
    reg [4*W-1:0] t4;
    reg [2:0]  neg4;
    reg [103:0] pm4;
    reg [27:0] psh4;
    reg [3:0]  psg4;
    /* verilator lint_on UNUSEDSIGNAL */
    reg [2:0]  pfl4;
    reg [7:0]  sa4, sb4;
    always @(posedge clk) begin
        if (rst) begin
            t4 <= {4*W{1'b0}}; neg4 <= 3'd0; pm4 <= 104'd0; psh4 <= 28'd0; psg4 <= 4'd0;
            pfl4 <= 3'd0; sa4 <= 8'd0; sb4 <= 8'd0;
        end else if (ld[3+XM]) begin
            t4 <= tt; neg4 <= tneg; pm4 <= pm3; psh4 <= psh3; psg4 <= psg3;
            pfl4 <= pfl3; sa4 <= sa3; sb4 <= sb3;
        end
    end

    // ---- s5: accumulate; read capture
    localparam SEG = 32;
    localparam NSEG = (W + SEG - 1) / SEG;
    reg  [W-1:0] acc;               // exact: segment sums (carries in cy); fixed: the value
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the top segment's carry is dropped (the wrap);
    reg  [3*NSEG-1:0] cy;           // exact: carry of segment i into segment i + 1
    // only the fp32 accumulator (ACC = 1) reads all of accf
    reg [31:0] accf;                // the fp32 accumulator (ACC = 1)
    /* verilator lint_on UNUSEDSIGNAL */
    reg [2:0] flags;
    // exact: per segment, acc + the four slot terms (sign-extended) + the carry in
    wire [W-1:0] acc_next;
    wire [3*NSEG-1:0] cy_next;
    reg  [W-1:0] cyv;               // the carries at their weights (a second addend of the value)
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: each segment reads only its slice of tw
    genvar gs;
    generate
        for (gs = 0; gs < NSEG; gs = gs + 1) begin : g_seg
            localparam LO = gs * SEG;
            localparam SW = (W - LO < SEG) ? W - LO : SEG;
            wire [SW+2:0] sx [0:3];
            genvar gt;
            for (gt = 0; gt < 4; gt = gt + 1) begin : g_t
                localparam integer TWR = max_psh(MDP, gt) + max_pw(MDP, gt) + 1;
                localparam integer TW = (TWR < W) ? TWR : W;
                wire [W-1:0] tw;
                if (TW < W) begin : g_ext
                    assign tw = {{(W-TW){t4[gt*W + TW - 1]}}, t4[gt*W +: TW]};
                end else begin : g_full
                    assign tw = t4[gt*W +: W];
                end
                assign sx[gt] = {3'd0, tw[LO +: SW]};
            end
            wire [2:0] cin = (gs == 0) ? neg4 : cy[3*(gs-1) +: 3];
            // carry-save tree (six addends to two), then one SW+3-bit carry-propagate adder
            wire [SW+2:0] a0 = {3'd0, acc[LO +: SW]}, a5 = {{SW{1'b0}}, cin};
            wire [SW+2:0] s1 = a0 ^ sx[0] ^ sx[1];
            wire [SW+2:0] c1 = ((a0 & sx[0]) | (a0 & sx[1]) | (sx[0] & sx[1])) << 1;
            wire [SW+2:0] s2 = sx[2] ^ sx[3] ^ a5;
            wire [SW+2:0] c2 = ((sx[2] & sx[3]) | (sx[2] & a5) | (sx[3] & a5)) << 1;
            wire [SW+2:0] s3 = s1 ^ c1 ^ s2;
            wire [SW+2:0] c3 = ((s1 & c1) | (s1 & s2) | (c1 & s2)) << 1;
            wire [SW+2:0] s4 = s3 ^ c3 ^ c2;
            wire [SW+2:0] c4 = ((s3 & c3) | (s3 & c2) | (c3 & c2)) << 1;
            wire [SW+2:0] ssum;
            if (PIPE != 0) begin : g_pa
                wire co;
                padd #(.W(SW+3)) u_pa (.a(s4), .b(c4), .cin(1'b0), .s(ssum), .cout(co));
            end else begin : g_ra
                assign ssum = s4 + c4;
            end
            assign acc_next[LO +: SW] = ssum[SW-1:0];
            assign cy_next[3*gs +: 3] = ssum[SW +: 3];
        end
    endgenerate
    /* verilator lint_on UNUSEDSIGNAL */
    integer j, jb;
    always @* begin
        cyv = {W{1'b0}};
        for (j = 0; j + 1 < NSEG; j = j + 1)
            for (jb = 0; jb < 3; jb = jb + 1)
                if ((j + 1) * SEG + jb < W) cyv[(j + 1) * SEG + jb] = cy[3 * j + jb];
    end
    wire [W-1:0] acc_fix;           // fixed: saturating add of the clamped products (ACC = 2)
    wire [31:0] accf_next;          // fp32: fused adds in sub-word order (ACC = 1)
    wire [W-1:0] f32sig;            // fp32: the register's significand, hidden bit included
    generate
        if (ACC == 2) begin : g_fix
            wire [4*(WF+2)-1:0] q;
            /* verilator lint_off UNUSEDSIGNAL */  // waiver: PIPE = 0 leaves the +1s at 0, unused
            wire [3:0] qc;
            /* verilator lint_on UNUSEDSIGNAL */
            // PIPE = 1: the slots' shift exponents t = psh + lsb2 + F are formed a stage earlier
            // (md3 is then the mode of the beat in the multiplier's second stage)
            /* verilator lint_off UNUSEDSIGNAL */  // waiver: PIPE = 0 does not use them
            wire [39:0] tpre;
            /* verilator lint_on UNUSEDSIGNAL */
            if (PIPE != 0) begin : g_tp
                wire signed [9:0] t0 = lsb2_of(md3) + $signed(FF12[9:0]);
                wire [39:0] tw;
                genvar gq;
                for (gq = 0; gq < 4; gq = gq + 1) begin : g_t
                    assign tw[10*gq +: 10] = $signed({3'd0, psh_d[7*gq +: 7]}) + t0;
                end
                pipe_reg #(.W(40), .EN(1)) u_t4 (.clk(clk), .rst(rst), .ce(ld[2+XM]), .d(tw), .q(tpre));
            end else begin : g_tn
                assign tpre = 40'd0;
            end
            fixed_slots #(.WF(WF), .FF(FF), .PIPE(PIPE)) u_fq (.pm(pm3), .psh(psh3), .psign(psg3), .mode(md3),
                .tin(tpre), .q(q), .qc(qc));
            wire signed [WF+1:0] qsum;
            wire [WF+2:0] qa4, qb4;         // PIPE = 1: the slot sum as two carry-save addends
            if (PIPE != 0) begin : g_pq
                // four one's complement terms (sign-extended to the adder's WF + 3 bits) and the
                // count of their +1s: three carry-save steps here, the carry-propagate addition
                // in the accumulate stage (fixed_acc adds acc + qa + qb)
                wire [WF+2:0] q0 = {q[WF+1], q[0 +: WF+2]}, q1 = {q[2*(WF+2)-1], q[WF+2 +: WF+2]};
                wire [WF+2:0] q2 = {q[3*(WF+2)-1], q[2*(WF+2) +: WF+2]}, q3 = {q[4*(WF+2)-1], q[3*(WF+2) +: WF+2]};
                wire [2:0] nc = {2'b00, qc[0]} + {2'b00, qc[1]} + {2'b00, qc[2]} + {2'b00, qc[3]};
                wire [WF+2:0] q4 = {{WF{1'b0}}, nc};
                wire [WF+2:0] s0 = q0 ^ q1 ^ q2;
                wire [WF+2:0] c0 = ((q0 & q1) | (q0 & q2) | (q1 & q2)) << 1;
                wire [WF+2:0] s1 = s0 ^ q3 ^ q4;
                wire [WF+2:0] c1 = ((s0 & q3) | (s0 & q4) | (q3 & q4)) << 1;
                wire [WF+2:0] s2 = s1 ^ c1 ^ c0;
                wire [WF+2:0] c2 = ((s1 & c1) | (s1 & c0) | (c1 & c0)) << 1;
                assign qsum = {(WF+2){1'b0}};
                pipe_reg #(.W(2*(WF+3)), .EN(1)) u_q4 (.clk(clk), .rst(rst), .ce(ld[3+XM]), .d({s2, c2}), .q({qa4, qb4}));
            end else begin : g_rq
                assign {qa4, qb4} = {(2*(WF+3)){1'b0}};
                assign qsum = $signed(q[0 +: WF+2]) + $signed(q[WF+2 +: WF+2]) +
                              $signed(q[2*(WF+2) +: WF+2]) + $signed(q[3*(WF+2) +: WF+2]);
            end
            reg signed [WF+1:0] qs4;
            always @(posedge clk) begin
                if (rst) qs4 <= {(WF+2){1'b0}};
                else if (ld[3+XM]) qs4 <= qsum;
            end
            wire signed [WF-1:0] fsum;
            fixed_acc #(.WF(WF), .PIPE(PIPE)) u_fix (.qs(qs4), .qa(qa4), .qb(qb4), .acc(acc[WF-1:0]), .sum(fsum));
            assign acc_fix = {{(W-WF){fsum[WF-1]}}, fsum};
            assign accf_next = 32'd0;
            assign f32sig = {W{1'b0}};
        end else if (ACC == 1) begin : g_f32
            // PIPE = 1: no chained adders (an empty mode set passes acc through); g_f32w adds instead
            fp32_acc #(.MODES((PIPE != 0) ? 0 : MODES)) u_f32 (.pm(pm4), .psh(psh4), .psign(psg4), .mode(md4),
                .acc(accf), .sum(accf_next));
            assign acc_fix = {W{1'b0}};
            assign f32sig = {{(W-24){1'b0}}, (accf[30:23] != 8'd0), accf[22:0]};
        end else begin : g_exact
            assign acc_fix = {W{1'b0}};
            assign accf_next = 32'd0;
            assign f32sig = {W{1'b0}};
        end
    endgenerate
    // PIPE = 1: the multiplier's second stage s3a (placed after the accumulator's unnamed generate
    // block so that its genblk number stays as it was)
    generate
        if (PIPE != 0) begin : g_s3a
            rmul16p #(.KMASK(KMASK)) u_mulp (.clk(clk), .rst(rst), .ce(ld[2]), .a(ma2), .b(mb2),
                .kmode(kmode2), .p(prod_d));
            pipe_reg #(.W(28 + 4 + 3 + 2 + 16), .EN(1)) u_s3a (.clk(clk), .rst(rst), .ce(ld[2]),
                .d({psh, psg, pfl, kmode2, sa2, sb2}), .q({psh_d, psg_d, pfl_d, km_d, sa_d, sb_d}));
        end else begin : g_s3
            // unused: p3's loads below take the s3 values directly (PIPE is a constant)
            assign {prod_d, psh_d, psg_d, pfl_d, km_d, sa_d, sb_d} = {(32 + 28 + 4 + 3 + 2 + 16){1'b0}};
        end
    endgenerate
    wire signed [9:0] lm4 = lsb2_of(md4);
    // sign-extended copies: MX block sums are 21 bits (segment 0), whatever W is
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: only the low 21 bits are used
    wire [W+20:0] acc_next_x = {{21{acc_next[W-1]}}, acc_next};
    wire [W+20:0] acc_x = {{21{acc[W-1]}}, acc};
    /* verilator lint_on UNUSEDSIGNAL */
    // read capture: the register as two addends (exact: segments + carries), LSB exponent, class
    reg [W-1:0] rraw, rcy;
    reg         rsm;                // fp32 register: rraw is a magnitude, rsgn its sign
    reg         rsgn;
    reg [1:0]   rcls;
    reg signed [11:0] rexp;         // exponent of the register's LSB
    // MX block state and the operation handed to mx_acc (unused, and pruned, without MX modes)
    /* verilator lint_off UNUSEDSIGNAL */
    reg [3:0]  cnt;                 // word pairs of the open block
    reg [7:0]  bsa, bsb;            // scales of the open block
    reg        mo_add, mo_rdo, mo_rdc, mo_clr;
    reg signed [20:0] mo_sum;
    reg [7:0]  mo_sa, mo_sb;
    reg [3:0]  mo_mode;
    /* verilator lint_on UNUSEDSIGNAL */
    wire is_mx4;                    // a block mode (MX; nvfp4 builds: also nvfp4)
    wire [3:0] per_block;           // word pairs per block - 1
    wire [7:0] cur_sa = (cnt == 4'd0) ? sa4 : bsa;
    wire [7:0] cur_sb = (cnt == 4'd0) ? sb4 : bsb;
    always @(posedge clk) begin
        if (rst) begin
            acc <= {W{1'b0}}; cy <= {3*NSEG{1'b0}}; accf <= 32'd0; flags <= 3'd0;
            rraw <= {W{1'b0}}; rcy <= {W{1'b0}}; rsm <= 1'b0; rsgn <= 1'b0; rcls <= 2'd0; rexp <= 12'sd0;
            cnt <= 4'd0; bsa <= 8'd0; bsb <= 8'd0; mo_add <= 1'b0; mo_rdo <= 1'b0; mo_rdc <= 1'b0;
            mo_clr <= 1'b0; mo_sum <= 21'sd0; mo_sa <= 8'd0; mo_sb <= 8'd0; mo_mode <= 4'd0;
        end else if (ld[4+XM]) begin
            mo_add <= 1'b0;
            mo_rdo <= 1'b0;
            mo_rdc <= 1'b0;
            mo_clr <= 1'b0;
            case (op4)
                OP_CLEAR: begin
                    acc <= {W{1'b0}}; cy <= {3*NSEG{1'b0}}; accf <= 32'd0; flags <= 3'd0; cnt <= 4'd0;
                    mo_clr <= 1'b1;
                end
                OP_ACC: begin
                    flags <= flags | pfl4;
                    if (is_mx4) begin
                        // the block register is segment 0 (>= 21 bits): its low 21 bits are the sum
                        if (cnt == 4'd0) begin bsa <= sa4; bsb <= sb4; end
                        if (cnt == per_block) begin
                            cnt <= 4'd0;
                            acc <= {W{1'b0}}; cy <= {3*NSEG{1'b0}};
                            mo_add <= 1'b1;
                            mo_sum <= acc_next_x[20:0];
                            mo_sa <= cur_sa; mo_sb <= cur_sb; mo_mode <= md4;
                        end else begin
                            cnt <= cnt + 4'd1;
                            acc <= acc_next; cy <= cy_next;
                        end
                    end else if (ACC == 1) begin
                        accf <= accf_next;
                    end else if (ACC == 2) begin
                        acc <= acc_fix;
                    end else begin
                        acc <= acc_next; cy <= cy_next;
                    end
                end
                OP_READ: begin
                    if (ACC == 1 && !is_mx4) begin
                        rsm <= 1'b1;
                        rsgn <= accf[31];
                        rraw <= f32sig;
                        rcy <= {W{1'b0}};
                        rexp <= ((accf[30:23] == 8'd0) ? 12'sd1 : $signed({4'd0, accf[30:23]})) - 12'sd150;
                    end else begin
                        rsm <= 1'b0;
                        rsgn <= 1'b0;
                        rraw <= acc;
                        rcy <= (ACC == 0) ? cyv : {W{1'b0}};
                        rexp <= (ACC == 2) ? -$signed(FF12) : {{2{lm4[9]}}, lm4};
                    end
                    rcls <= (flags[0] || flags[2:1] == 2'b11) ? 2'd1 : flags[1] ? 2'd2 : flags[2] ? 2'd3 : 2'd0;
                    mo_rdo <= (cnt != 4'd0);
                    mo_rdc <= (cnt == 4'd0);
                    mo_sum <= acc_x[20:0];
                    mo_sa <= bsa; mo_sb <= bsb; mo_mode <= md4;
                end
                default: ;
            endcase
        end
    end

    // ---- readout of the non-MX registers: each wide carry-propagate addition is split in two
    // halves over two stages (H low bits, then the rest with the carry)
    localparam H = (W + 1) / 2;
    // s6: resolve the carries, low half
    reg [H-1:0] lo6;
    reg         c6, sm6, sg6;
    reg [W-H-1:0] rawh6, cyh6;
    reg [1:0]   cls6;
    reg signed [11:0] exp6;
    wire [H:0] lo6_w = {1'b0, rraw[H-1:0]} + {1'b0, rcy[H-1:0]};
    wire [H:0] lo6_p;                // PIPE = 1: the same sum from a prefix adder
    wire [W-H-1:0] hi7_w;            // s7's high half: rawh6 + cyh6 + c6
    wire [H:0] lo9_w;
    wire [W-H-1:0] hi10_w;           // s10's high half: uh9 + c9
    always @(posedge clk) begin
        if (rst) begin
            lo6 <= {H{1'b0}}; c6 <= 1'b0; sm6 <= 1'b0; sg6 <= 1'b0; rawh6 <= {(W-H){1'b0}};
            cyh6 <= {(W-H){1'b0}}; cls6 <= 2'd0; exp6 <= 12'sd0;
        end else if (ld[5+XM]) begin
            lo6 <= (PIPE != 0) ? lo6_p[H-1:0] : lo6_w[H-1:0]; c6 <= (PIPE != 0) ? lo6_p[H] : lo6_w[H]; sm6 <= rsm; sg6 <= rsgn; rawh6 <= rraw[W-1:H];
            cyh6 <= rcy[W-1:H]; cls6 <= rcls; exp6 <= rexp;
        end
    end
    // fp32 accumulator, PIPE = 1 (g_f32w): the READ's exact sum of the two partial sums, in s7
    localparam integer F32W = (ACC == 1 && PIPE != 0) ? 1 : 0;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: read only by PIPE = 1 fp32 builds
    wire [W-1:0] f32w_mag;
    wire         f32w_sgn;
    wire [11:0]  f32w_exp;
    wire [1:0]   f32w_cls;
    /* verilator lint_on UNUSEDSIGNAL */
    // s7: resolve, high half
    reg [W-1:0] v7;
    reg         sm7, sg7;
    reg [1:0]   cls7;
    reg signed [11:0] exp7;
    always @(posedge clk) begin
        if (rst) begin
            v7 <= {W{1'b0}}; sm7 <= 1'b0; sg7 <= 1'b0; cls7 <= 2'd0; exp7 <= 12'sd0;
        end else if (ld[6+XM]) begin
            v7 <= (F32W != 0) ? f32w_mag : (PIPE != 0) ? {hi7_w, lo6} : {rawh6 + cyh6 + {{(W-H-1){1'b0}}, c6}, lo6};
            sm7 <= (F32W != 0) ? 1'b1 : sm6; sg7 <= (F32W != 0) ? f32w_sgn : sg6; cls7 <= (F32W != 0) ? f32w_cls : cls6;
            exp7 <= (F32W != 0) ? $signed(f32w_exp) : exp6;
        end
    end
    // s8: wrap at the mode's own width (exact register, as sim's), sign, one's complement
    reg [W-1:0] accw;
    integer i;
    always @* begin
        accw = v7;
        if (ACC == 0)
            for (i = 0; i < N_MODES; i = i + 1)
                if (((MODES >> i) & 1) != 0 && {28'd0, md7} == i && mode_width(i) < W)
                    accw = $unsigned($signed(v7 <<< (W - mode_width(i))) >>> (W - mode_width(i)));
    end
    wire neg7 = !sm7 && accw[W-1];
    reg [W-1:0] u8;
    reg         inc8, sign8;
    reg [1:0]   cls8;
    reg signed [11:0] exp8;
    always @(posedge clk) begin
        if (rst) begin
            u8 <= {W{1'b0}}; inc8 <= 1'b0; sign8 <= 1'b0; cls8 <= 2'd0; exp8 <= 12'sd0;
        end else if (ld[7+XM]) begin
            u8 <= neg7 ? ~accw : accw; inc8 <= neg7; sign8 <= sm7 ? sg7 : accw[W-1];
            cls8 <= cls7; exp8 <= exp7;
        end
    end
    // s9, s10: |acc| = u + inc, low half then high half
    reg [H-1:0] lo9;
    reg         c9, sign9;
    reg [W-H-1:0] uh9;
    reg [1:0]   cls9;
    reg signed [11:0] exp9;
    always @(posedge clk) begin
        if (rst) begin
            lo9 <= {H{1'b0}}; c9 <= 1'b0; sign9 <= 1'b0; uh9 <= {(W-H){1'b0}}; cls9 <= 2'd0; exp9 <= 12'sd0;
        end else if (ld[8+XM]) begin
            lo9 <= lo9_w[H-1:0]; c9 <= lo9_w[H]; sign9 <= sign8; uh9 <= u8[W-1:H]; cls9 <= cls8;
            exp9 <= exp8;
        end
    end
    // the readout's carry-propagate additions (PIPE = 1: prefix adders)
    generate
        if (PIPE != 0) begin : g_rpa
            /* verilator lint_off UNUSEDSIGNAL */  // waiver: the wrap drops the top carries
            wire co7, co10;
            /* verilator lint_on UNUSEDSIGNAL */
            padd #(.W(H)) u_a6 (.a(rraw[H-1:0]), .b(rcy[H-1:0]), .cin(1'b0), .s(lo6_p[H-1:0]), .cout(lo6_p[H]));
            padd #(.W(W-H)) u_a7 (.a(rawh6), .b(cyh6), .cin(c6), .s(hi7_w), .cout(co7));
            padd #(.W(H)) u_a9 (.a(u8[H-1:0]), .b({H{1'b0}}), .cin(inc8), .s(lo9_w[H-1:0]), .cout(lo9_w[H]));
            padd #(.W(W-H)) u_a10 (.a(uh9), .b({(W-H){1'b0}}), .cin(c9), .s(hi10_w), .cout(co10));
        end else begin : g_rra
            assign lo6_p = {(H+1){1'b0}};
            assign hi7_w = {(W-H){1'b0}};      // (the additions stay inline where they were)
            assign lo9_w = {1'b0, u8[H-1:0]} + {{H{1'b0}}, inc8};
            assign hi10_w = {(W-H){1'b0}};
        end
    endgenerate
    reg         rsign;
    reg [W-1:0] rmag;
    reg [1:0]   cls10;
    reg signed [11:0] exp10;
    always @(posedge clk) begin
        if (rst) begin
            rsign <= 1'b0; rmag <= {W{1'b0}}; cls10 <= 2'd0; exp10 <= 12'sd0;
        end else if (ld[9+XM]) begin
            rsign <= sign9; rmag <= (PIPE != 0) ? {hi10_w, lo9} : {uh9 + {{(W-H-1){1'b0}}, c9}, lo9}; cls10 <= cls9; exp10 <= exp9;
        end
    end

    // s11: normalise
    wire [39:0] nsig_w;
    wire nst_w, nzero_w;
    wire signed [11:0] nexp_w;
    norm #(.W(W)) u_norm (.mag(rmag), .lexp(exp10), .sig(nsig_w), .st(nst_w), .mexp(nexp_w), .zero(nzero_w));
    reg         nsign, nst, nzero;
    reg [39:0]  nsig;
    reg signed [11:0] nexp;
    reg [1:0]   ncls;
    always @(posedge clk) begin
        if (rst) begin
            nsign <= 1'b0; nst <= 1'b0; nzero <= 1'b1; nsig <= 40'd0; nexp <= 12'sd0; ncls <= 2'd0;
        end else if (ld[10+XM]) begin
            nsign <= rsign; nst <= nst_w; nzero <= nzero_w; nsig <= nsig_w; nexp <= nexp_w; ncls <= cls10;
        end
    end

    // s12, s13: encode (the cut registers inside readout load with ld[11+XM]); out register
    wire [31:0] yenc;
    readout #(.MODES(MODES)) u_rd (.clk(clk), .rst(rst), .ce(ld[11+XM]), .mode(md12), .fp32(f12),
                                   .sign(nsign), .sig(nsig), .st(nst), .mexp(nexp), .zero(nzero),
                                   .cls(ncls), .y(yenc));
    wire [31:0] yd13;
    pipe_reg #(.W(32)) u_y13 (.clk(clk), .rst(rst), .ce(ld[12+XM]), .d(yenc), .q(yd13));

    // ---- MX: the FP32 block additions and the READ of the running sum (mx_acc)
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: MX-only in configs without MX
    wire [31:0] ymx;
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (HAS_MX != 0) begin : g_mx
            wire signed [9:0] lsb2 = (mo_mode == M_MXFP4) ? -10'sd2 : -10'sd12;   // mxint8 elements: int8 * 2^-6
            mx_acc #(.PIPE(PIPE)) u_mx (.clk(clk), .rst(rst), .ld(ldm), .add(mo_add), .rdo(mo_rdo), .rdc(mo_rdc),
                         .clr(mo_clr), .bsum(mo_sum), .sa(mo_sa), .sb(mo_sb), .lsb2(lsb2), .ry(ymx));
        end else begin : g_nomx
            assign ymx = 32'd0;
        end
    endgenerate

    // ---- out register
    wire is_mx13 = (HAS_MX != 0) && (md13 == M_MXFP4 || md13 == M_MXINT8);

    // ---- nvfp4 (MODES bit 10) and what it changes; the else branches are the builds without it
    generate
        if (HAS_NV != 0) begin : g_nv
            assign md1d = (md1 == M_NVFP4) ? M_MXFP4 : md1;
            assign is_mx4 = ((HAS_MX != 0) && (md4 == M_MXFP4 || md4 == M_MXINT8)) || md4 == M_NVFP4;
            assign per_block = (md4 == M_NVFP4) ? 4'd3 : (md4 == M_MXFP4) ? 4'd7 : 4'd15;
            wire [31:0] ynv;
            nv_acc #(.PIPE(PIPE)) u_nv (.clk(clk), .rst(rst), .ld(ldn), .op1(op1), .md1(md1), .a1(a1), .b1(b1),
                         .add(mo_add), .rdo(mo_rdo), .rdc(mo_rdc), .clr(mo_clr), .bsum(mo_sum),
                         .sa(mo_sa), .sb(mo_sb), .ry(ynv));
            if (XR != 0) begin : g_yr
                // PIPE = 1: the readout results registered in s15 (loaded as the beat leaves s14)
                wire [31:0] yd15, ymx15, ynv15;
                pipe_reg #(.W(96)) u_y15 (.clk(clk), .rst(rst), .ce(ld[13+XM]), .d({yd13, ymx, ynv}),
                                          .q({yd15, ymx15, ynv15}));
                // MX's NaN made canonical here (mx_acc leaves it to this stage at PIPE = 1)
                wire [31:0] ymxc = (ymx15[30:23] == 8'hff && ymx15[22:0] != 23'd0) ? 32'h7fc00000 : ymx15;
                always @(posedge clk) begin
                    if (rst) y <= 32'd0;
                    else if (ld[13+XM+XR] && op13 == OP_READ) y <= (md13 == M_NVFP4) ? ynv15 : is_mx13 ? ymxc : yd15;
                end
            end else begin : g_y
                always @(posedge clk) begin
                    if (rst) y <= 32'd0;
                    else if (ld[13+XM] && op13 == OP_READ) y <= (md13 == M_NVFP4) ? ynv : is_mx13 ? ymx : yd13;
                end
            end
        end else begin : g_nonv
            assign md1d = md1;
            assign is_mx4 = (HAS_MX != 0) && (md4 == M_MXFP4 || md4 == M_MXINT8);
            assign per_block = (md4 == M_MXFP4) ? 4'd7 : 4'd15;
            if (XR != 0) begin : g_yr
                wire [31:0] yd15, ymx15;
                pipe_reg #(.W(64)) u_y15 (.clk(clk), .rst(rst), .ce(ld[13+XM]), .d({yd13, ymx}), .q({yd15, ymx15}));
                wire [31:0] ymxc = (ymx15[30:23] == 8'hff && ymx15[22:0] != 23'd0) ? 32'h7fc00000 : ymx15;
                always @(posedge clk) begin
                    if (rst) y <= 32'd0;
                    else if (ld[13+XM+XR] && op13 == OP_READ) y <= is_mx13 ? ymxc : yd15;
                end
            end else begin : g_y
                always @(posedge clk) begin
                    if (rst) y <= 32'd0;
                    else if (ld[13+XM] && op13 == OP_READ) y <= is_mx13 ? ymx : yd13;
                end
            end
        end
    endgenerate
    // ---- fp32 accumulator, PIPE = 1 (docs/mac.md 4.2): one rounding per word, into two FP32
    // partial sums that take the words in turn (ACC word c: partial c % 2), added exactly at READ.
    // s4: the word's exact product sum (word_sum); s5 (stage A): fadd_pipe's alignment and
    // magnitude from the partial sum, s6 (stage B): its normalise and round, written back; a word
    // reads its partial two beats after the last word that wrote it.  READ: the partial sums when
    // the READ is in stage B (the last word has written), f32_sum2's two stages, into s7.
    generate
        if (F32W != 0) begin : g_f32w
            localparam integer SWR = fp32_sum_width(MDP & MASK_NONMX);
            localparam integer SWM = (SWR > 8) ? SWR : 8;
            localparam integer NWL = (SWM > 24) ? SWM : 24;
            wire ws_sg, ws_sg4;
            wire [SWM-1:0] ws_m, ws_m4;
            wire [6:0] ws_e, ws_e4;
            word_sum #(.KMASK(KMASK), .SW(SWM)) u_ws (.pm(pm3), .psh(psh3), .psign(psg3), .kmode(km3),
                .sign(ws_sg), .mag(ws_m), .e0(ws_e));
            pipe_reg #(.W(SWM + 8), .EN(1)) u_ws4 (.clk(clk), .rst(rst), .ce(ld[3+XM]), .d({ws_sg, ws_m, ws_e}),
                .q({ws_sg4, ws_m4, ws_e4}));
            reg [31:0] fpa0, fpa1;          // the partial sums
            reg tag_a, wv_b, tag_b;         // partial of the next word; stage B: a word, its partial
            wire [31:0] fpsum;
            wire signed [9:0] wxe = $signed({3'd0, ws_e4}) + lm4;
            // exponent gaps above CAP = NW + 2 fold the smaller operand into the sticky bit
            fadd_pipe #(.MW(SWM), .EW(10), .CAP(NWL + 2), .PIPE(1), .CUTS(4)) u_fw (.clk(clk), .rst(rst),
                .ce({1'b0, ld[4+XM], 2'b00}), .acc(tag_a ? fpa1 : fpa0), .xs(ws_sg4), .xm(ws_m4), .xexp(wxe),
                .nan(1'b0), .pass(1'b0), .sum(fpsum));
            always @(posedge clk) begin
                if (rst) begin
                    fpa0 <= 32'd0; fpa1 <= 32'd0; tag_a <= 1'b0; wv_b <= 1'b0; tag_b <= 1'b0;
                end else begin
                    if (ld[5+XM] && wv_b) begin
                        if (tag_b) fpa1 <= fpsum;
                        else fpa0 <= fpsum;
                    end
                    if (ld[4+XM]) begin
                        wv_b <= (op4 == OP_ACC) && !is_mx4;
                        tag_b <= tag_a;
                        // CLEAR wins over a write of the word ahead of it (a CLEAR without READ)
                        if (op4 == OP_CLEAR) begin
                            tag_a <= 1'b0; fpa0 <= 32'd0; fpa1 <= 32'd0;
                        end else if (op4 == OP_ACC && !is_mx4) begin
                            tag_a <= ~tag_a;
                        end
                    end
                end
            end
            localparam integer FW2 = 24 + 32 + 3;
            wire [FW2-1:0] rs_mag;
            wire rs_sg;
            /* verilator lint_off UNUSEDSIGNAL */  // waiver: the readout's exponent is 12 bits wide
            wire signed [13:0] rs_exp;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [2:0] rs_fl;
            f32_sum2 #(.CAP(32)) u_rs (.clk(clk), .rst(rst), .ce(ld[5+XM]), .a(fpa0), .b(fpa1),
                .mag(rs_mag), .sign(rs_sg), .lexp(rs_exp), .fl(rs_fl));
            // the class: the READ's flags (cls6) and Inf/NaN partial sums
            wire [2:0] fl6 = (cls6 == 2'd1) ? 3'd1 : (cls6 == 2'd2) ? 3'd2 : (cls6 == 2'd3) ? 3'd4 : 3'd0;
            wire [2:0] flm = fl6 | rs_fl;
            assign f32w_cls = (flm[0] || flm[2:1] == 2'b11) ? 2'd1 : flm[1] ? 2'd2 : flm[2] ? 2'd3 : 2'd0;
            assign f32w_mag = {{(W-FW2){1'b0}}, rs_mag};
            assign f32w_sgn = rs_sg;
            assign f32w_exp = rs_exp[11:0];
        end else begin : g_f32w0
            assign f32w_mag = {W{1'b0}};
            assign f32w_sgn = 1'b0;
            assign f32w_exp = 12'd0;
            assign f32w_cls = 2'd0;
        end
    endgenerate
endmodule
