// Leading-zero count of an N-bit word (N when the word is zero), as a log-depth tree: the word
// is left aligned in 2^L bits (zero padded below), and each level merges pairs of neighbouring
// fields (all-zero flag, count): a field's count is its upper half's, or half its width plus its
// lower half's when the upper half is all zero.
module lzc #(
    parameter N = 32,
    parameter CW = 8
) (
    input  wire [N-1:0]  x,
    output wire [CW-1:0] n
);
    function integer clog2l(input integer v);
        integer t;
        begin
            clog2l = 0;
            t = v - 1;
            while (t > 0) begin clog2l = clog2l + 1; t = t >> 1; end
        end
    endfunction
    localparam L = (N > 1) ? clog2l(N) : 1;          // levels; the padded width is 2^L
    localparam P = 1 << L;
    /* verilator lint_off UNUSEDSIGNAL */  // waiver: the top level's field array is wider than used
    wire [P-1:0] xp = {x, {(P-N){1'b0}}};
    // level k: P >> k fields of width 2^k; z: all zero; c: count (k bits used, L+1 wide)
    wire [P-1:0] z [0:L];
    wire [(L+1)*P-1:0] c [0:L];
    /* verilator lint_on UNUSEDSIGNAL */
    genvar k, i;
    generate
        for (i = 0; i < P; i = i + 1) begin : g_leaf
            assign z[0][i] = ~xp[i];
            assign c[0][(L+1)*i +: L+1] = {(L+1){1'b0}};
        end
        for (k = 1; k <= L; k = k + 1) begin : g_lvl
            for (i = 0; i < (P >> k); i = i + 1) begin : g_f
                // field i of level k covers bits [i*2^k, (i+1)*2^k); its upper half is field 2i+1
                wire zh = z[k-1][2*i+1];
                wire zl = z[k-1][2*i];
                wire [L:0] ch = c[k-1][(L+1)*(2*i+1) +: L+1];
                wire [L:0] cl = c[k-1][(L+1)*(2*i) +: L+1];
                assign z[k][i] = zh & zl;
                assign c[k][(L+1)*i +: L+1] = zh ? ((1 << (k-1)) + cl) : ch;
            end
            for (i = (P >> k); i < P; i = i + 1) begin : g_pad
                assign z[k][i] = 1'b1;
                assign c[k][(L+1)*i +: L+1] = {(L+1){1'b0}};
            end
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] nn = z[L][0] ? N : {{(31-L){1'b0}}, c[L][0 +: L+1]};
    /* verilator lint_on UNUSEDSIGNAL */
    assign n = nn[CW-1:0];
endmodule
