// The fused addition RNE_fp32(acc + x) of fadd_fp32 over five pipeline stages (the MX path,
// mx_acc): ce[1] loads the alignment setup (acc is read here, and only here), ce[2] the exact
// sum, ce[3] its magnitude, ce[4] the normalised magnitude (enc_fp32's cut); the rounded sum
// comes out of the fifth stage combinationally.  nan forces the canonical NaN (an MX scale of
// 0xFF); pass forces acc.  Same results as fadd_fp32 (x = (-1)^xs * xm * 2^xexp exact, up to MW bits).
/* verilator lint_off UNUSEDSIGNAL */  // waiver: parameterized slicing leaves some bits of
// intermediate vectors unused for some parameters
module fadd_pipe #(
    parameter MW  = 21,
    parameter EW  = 12,
    parameter CAP = 48,
    parameter integer PIPE = 0,     // 1: prefix adders for the sum and the magnitude (deep pipeline)
    parameter integer CUTS = 15     // bit i - 1: the stage-i register (ce[i]) is a register, else a
                                    // wire (the fp32 accumulator's 2-cycle loop: 4'b0100)
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire [4:1]           ce,
    input  wire [31:0]          acc,
    input  wire                 xs,
    input  wire [MW-1:0]        xm,
    input  wire signed [EW-1:0] xexp,
    input  wire                 nan,
    input  wire                 pass,   // the result is acc as it is (x ignored)
    output wire [31:0]          sum
);
    localparam NW = (MW > 24) ? MW : 24;
    localparam FW = NW + CAP + 3;
    /* verilator lint_off WIDTHTRUNC */  // waiver: CAP (<= 127) may be overridden by a 32-bit integer
    localparam [6:0] CAP7 = CAP;
    /* verilator lint_on WIDTHTRUNC */
    localparam integer NW1I = NW + 1;
    localparam integer RW = (NW1I < 64) ? 6 : 7;    // bits of the right shift (0 .. NW + 1)
    wire [31:0] nw1_32 = NW1I;
    wire [RW-1:0] NW1 = nw1_32[RW-1:0];
    // ---- stage 1: operand decode, compare, swap, shift amounts
    wire [7:0]  ae = acc[30:23];
    wire [NW-1:0] am = {{(NW-24){1'b0}}, (ae == 8'd0) ? 1'b0 : 1'b1, acc[22:0]};
    wire signed [13:0] aexp = ((ae == 8'd0) ? 14'sd1 : $signed({6'd0, ae})) - 14'sd150;
    wire signed [13:0] bexp = $signed({{(14-EW){xexp[EW-1]}}, xexp});
    wire [NW-1:0] bm = {{(NW-MW){1'b0}}, xm};
    wire        a_zero = (am == {NW{1'b0}});
    wire        x_zero = (bm == {NW{1'b0}});
    wire        ge_p;                // PIPE = 1: aexp >= bexp, from a subtraction started at once
    wire        a_hi = !a_zero && (x_zero || ((PIPE != 0) ? ge_p : aexp >= bexp));
    wire [NW-1:0] hm = a_hi ? am : bm;
    wire [NW-1:0] lm = a_hi ? (x_zero ? {NW{1'b0}} : bm) : (a_zero ? {NW{1'b0}} : am);
    wire        hs = a_hi ? acc[31] : xs;
    wire        ls = a_hi ? xs : acc[31];
    wire signed [13:0] he = a_hi ? aexp : bexp;
    wire signed [13:0] le = a_hi ? bexp : aexp;
    wire signed [14:0] d = he - le;
    wire [6:0]  s;
    wire signed [14:0] r_full;
    wire [RW-1:0] r;
    wire signed [13:0] fexp;
    generate
        if (PIPE != 0) begin : g_e1
            // the exponent differences (and less CAP) in both directions and the exponents less
            // one (and less CAP) start at once; the comparison only selects among them
            wire signed [14:0] ax = {aexp[13], aexp}, bx = {bexp[13], bexp};
            wire signed [14:0] dab = ax - bx, dba = bx - ax;
            /* verilator lint_off WIDTHEXPAND */  // waiver: as CAP7 (the differences fit their widths)
            /* verilator lint_off WIDTHTRUNC */
            wire signed [14:0] dabc = ax - bx - CAP, dbac = bx - ax - CAP;
            wire signed [13:0] am1 = aexp - 14'sd1, bm1 = bexp - 14'sd1;
            wire signed [13:0] amc = aexp - CAP - 14'sd1, bmc = bexp - CAP - 14'sd1;
            /* verilator lint_on WIDTHTRUNC */
            /* verilator lint_on WIDTHEXPAND */
            assign ge_p = !dab[14];
            wire lmz = a_hi ? x_zero : a_zero;                        // lm == 0
            wire signed [14:0] dsel = a_hi ? dab : dba;              // d
            wire signed [14:0] dcs = a_hi ? dabc : dbac;             // d - CAP
            wire big = !dcs[14] && (dcs != 15'sd0);                   // d > CAP
            assign s = lmz ? 7'd0 : big ? CAP7 : dsel[6:0];
            assign r_full = 15'sd0;
            assign r = (lmz || !big) ? {RW{1'b0}} : ($signed({{17{dcs[14]}}, dcs}) > NW1I) ? NW1 : dcs[RW-1:0];
            assign fexp = lmz ? (a_hi ? am1 : bm1) : big ? (a_hi ? amc : bmc) : (a_hi ? bm1 : am1);
        end else begin : g_e0
            assign ge_p = 1'b0;
            assign s = (lm == {NW{1'b0}}) ? 7'd0 : (d > CAP) ? CAP7 : d[6:0];
            assign r_full = d - $signed({8'd0, s});
            assign r = (lm == {NW{1'b0}}) ? {RW{1'b0}} : ($signed({{17{r_full[14]}}, r_full}) > NW1I) ? NW1 : r_full[RW-1:0];
            assign fexp = he - $signed({7'd0, s}) - 14'sd1;
        end
    endgenerate
    wire        byp = pass || (ae == 8'hff) || x_zero;
    wire [31:0] bval = (pass || ae == 8'hff) ? acc : (acc == 32'h80000000) ? 32'd0 : acc;
    localparam C1 = 2*NW + 2 + 7 + RW + 14 + 1 + 32 + 1;
    wire [NW-1:0] hm1, lm1;
    wire hs1, ls1, byp1, nan1;
    wire [6:0] s1;
    wire [RW-1:0] r1;
    wire signed [13:0] fexp1;
    wire [31:0] bval1;
    pipe_reg #(.W(C1), .EN(CUTS & 1)) u_c1 (.clk(clk), .rst(rst), .ce(ce[1]),
        .d({hm, lm, hs, ls, s, r, fexp, byp, bval, nan}), .q({hm1, lm1, hs1, ls1, s1, r1, fexp1, byp1, bval1, nan1}));
    // ---- stage 2: alignment shifts and (PIPE = 0) the exact signed sum
    wire [2*NW-1:0] lw = {lm1, {NW{1'b0}}} >> r1;
    wire        lsticky = |lw[NW-1:0];
    wire [FW-1:0] hterm = {{(FW-NW){1'b0}}, hm1} << (s1 + 7'd1);
    wire [FW-1:0] lt    = {{(FW-NW-1){1'b0}}, lw[2*NW-1:NW], lsticky};
    wire signed [FW-1:0] f;         // PIPE = 0: the exact signed sum (PIPE = 1: unused)
    wire signed [FW-1:0] f2;
    wire signed [13:0] fexp2;
    wire byp2, nan2;
    wire [31:0] bval2;
    pipe_reg #(.W(FW + 14 + 34), .EN((CUTS >> 1) & 1)) u_c2 (.clk(clk), .rst(rst), .ce(ce[2]),
        .d({f, fexp1, byp1, bval1, nan1}), .q({f2, fexp2, byp2, bval2, nan2}));
    // ---- stage 3: magnitude (PIPE = 0: |f2|; PIPE = 1: stage 2 only aligns, registering both
    // terms, and stage 3 forms |(-1)^hs hterm + (-1)^ls lt| and its sign with prefix adders:
    // the sum, or both differences with the non-negative one chosen)
    wire [FW-1:0] fm;
    wire fsp;
    generate
        if (PIPE != 0) begin : g_pm
            assign f = {FW{1'b0}};
            wire [FW-1:0] ht2, lt2;
            wire hs2, ls2;
            pipe_reg #(.W(2 * FW + 2), .EN((CUTS >> 1) & 1)) u_c2p (.clk(clk), .rst(rst), .ce(ce[2]),
                .d({hterm, lt, hs1, ls1}), .q({ht2, lt2, hs2, ls2}));
            wire [FW-1:0] sum_w, d_hl, d_lh;
            wire co_s, ge, co_lh;
            padd #(.W(FW)) u_sum (.a(ht2), .b(lt2), .cin(1'b0), .s(sum_w), .cout(co_s));
            padd #(.W(FW)) u_dhl (.a(ht2), .b(~lt2), .cin(1'b1), .s(d_hl), .cout(ge));   // ge: ht2 >= lt2
            padd #(.W(FW)) u_dlh (.a(lt2), .b(~ht2), .cin(1'b1), .s(d_lh), .cout(co_lh));
            wire sub = hs2 ^ ls2;
            assign fm = !sub ? sum_w : ge ? d_hl : d_lh;
            assign fsp = (!sub || ge) ? hs2 : ls2;      // (a zero magnitude rounds to +0 whatever the sign)
        end else begin : g_m
            assign f = (hs1 ? -$signed(hterm) : $signed(hterm)) + (ls1 ? -$signed(lt) : $signed(lt));
            assign fm = f2[FW-1] ? -f2 : f2;
            assign fsp = 1'b0;
        end
    endgenerate
    wire [FW-1:0] fm3;
    wire fs3, byp3, nan3;
    wire signed [13:0] fexp3;
    wire [31:0] bval3;
    pipe_reg #(.W(FW + 14 + 35), .EN((CUTS >> 2) & 1)) u_c3 (.clk(clk), .rst(rst), .ce(ce[3]),
        .d({fm, (PIPE != 0) ? fsp : f2[FW-1], fexp2, byp2, bval2, nan2}), .q({fm3, fs3, fexp3, byp3, bval3, nan3}));
    // ---- stages 4 and 5: normalise (cut ce[4] inside enc_fp32), round
    wire [31:0] rounded;
    enc_fp32 #(.WM(FW), .EW(14), .PIPE((CUTS >> 3) & 1), .FAST(PIPE)) u_round (.clk(clk), .rst(rst), .ce(ce[4]), .sign(fs3),
        .mag(fm3), .lsbexp(fexp3), .code(rounded));
    wire byp4, nan4;
    wire [31:0] bval4;
    pipe_reg #(.W(34), .EN((CUTS >> 3) & 1)) u_c4 (.clk(clk), .rst(rst), .ce(ce[4]), .d({byp3, bval3, nan3}), .q({byp4, bval4, nan4}));
    assign sum = nan4 ? 32'h7fc00000 : byp4 ? bval4 : rounded;
endmodule
/* verilator lint_on UNUSEDSIGNAL */
