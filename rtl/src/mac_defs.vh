// Mode table of the MAC engine, shared by the modules that include it (inside a module body).
// Ids follow sim.mac.modes.MODES: 0 int4, 1 int8, 2 fp4_e2m1, 3 posit4_1, 4 posit8_0,
// 5 posit16_1, 6 fp8_e4m3, 7 fp8_e5m2, 8 mxfp4, 9 mxint8, 10 nvfp4.  Numbers come from
// sim.mac.tables().  nvfp4 runs on mxfp4's datapath up to the block sums (E2M1, 4-way, the
// block register): the tables below describe modes 0..9 (N_MODES), and a build's datapath is
// sized for dp_modes(MODES), which adds mxfp4's bit when nvfp4's is set (nv_acc does the rest).
// Waiver: Verilator reports each function's implicit return variable as hiding the function
// of the same name (standard Verilog-2005 function style), so VARHIDDEN is off for this file.
/* verilator lint_off VARHIDDEN */
localparam M_INT4 = 0, M_INT8 = 1, M_FP4 = 2, M_P4 = 3, M_P8 = 4, M_P16 = 5,
           M_E4M3 = 6, M_E5M2 = 7, M_MXFP4 = 8, M_MXINT8 = 9, N_MODES = 10;
// mode masks: the modes that use the lane's accumulator register, and the MX modes
// (waiver: each including module uses at most one of them)
/* verilator lint_off UNUSEDPARAM */
localparam integer MASK_NONMX = (1 << M_MXFP4) - 1,
                   MASK_MX = (1 << M_MXFP4) | (1 << M_MXINT8);
localparam M_NVFP4 = 10;
/* verilator lint_on UNUSEDPARAM */

// the modes whose datapath a build needs: nvfp4 (bit 10) uses mxfp4's (bit 8)
function integer dp_modes(input integer mask);
    dp_modes = mask | (((mask >> M_NVFP4) & 1) << M_MXFP4);
endfunction

// sub-words per 16-bit word
function integer mode_k(input integer m);
    mode_k = (m == M_P16) ? 1 : (m == M_INT4 || m == M_FP4 || m == M_P4 || m == M_MXFP4) ? 4 : 2;
endfunction

// exact accumulator width (sim.mac.tables(mode).width; MX: the 32-product block register)
function integer mode_width(input integer m);
    case (m)
        M_INT4: mode_width = 26;   M_INT8: mode_width = 33;  M_FP4: mode_width = 27;
        M_P4:   mode_width = 36;   M_P8:   mode_width = 43;  M_P16: mode_width = 130;
        M_E4M3: mode_width = 54;   M_E5M2: mode_width = 82;
        M_MXFP4: mode_width = 14;  M_MXINT8: mode_width = 21;
        default: mode_width = 1;
    endcase
endfunction

// 2 * lsb: the exponent of the accumulator's least significant bit
function integer mode_lsb2(input integer m);
    case (m)
        M_FP4, M_MXFP4: mode_lsb2 = -2;  M_MXINT8: mode_lsb2 = -12;  M_P4: mode_lsb2 = -8;   M_P8: mode_lsb2 = -12;
        M_P16: mode_lsb2 = -56;          M_E4M3: mode_lsb2 = -18; M_E5M2: mode_lsb2 = -32;
        default: mode_lsb2 = 0;
    endcase
endfunction

// 1 when every compiled non-MX mode has the same 2 * lsb (then the readout's LSB exponent
// is a build-time constant), else 0
function integer lsb2_uniform(input integer mask);
    integer i, v, seen;
    begin
        lsb2_uniform = 1;
        seen = 0;
        v = 0;
        for (i = 0; i < M_MXFP4; i = i + 1)
            if (((mask >> i) & 1) != 0) begin
                if (seen != 0 && mode_lsb2(i) != v) lsb2_uniform = 0;
                seen = 1;
                v = mode_lsb2(i);
            end
    end
endfunction

// 2 * lsb of the lowest compiled non-MX mode (0 when there is none)
function integer lsb2_first(input integer mask);
    integer i, found;
    begin
        lsb2_first = 0;
        found = 0;
        for (i = 0; i < M_MXFP4; i = i + 1)
            if (found == 0 && ((mask >> i) & 1) != 0) begin
                lsb2_first = mode_lsb2(i);
                found = 1;
            end
    end
endfunction

// widest accumulator among the compiled modes
function integer acc_width(input integer mask);
    integer i;
    begin
        acc_width = 2;
        for (i = 0; i < N_MODES; i = i + 1)
            if (((mask >> i) & 1) != 0 && mode_width(i) > acc_width) acc_width = mode_width(i);
    end
endfunction

// largest product shift (sh_a + sh_b) among the compiled modes that use product slot s
function integer max_psh(input integer mask, input integer slot);
    integer i, v;
    begin
        max_psh = 0;
        for (i = 0; i < N_MODES; i = i + 1) begin
            case (i)
                M_FP4, M_MXFP4: v = 4;  M_P4: v = 16; M_P8: v = 24; M_P16: v = 112;
                M_E4M3: v = 28; M_E5M2: v = 58; default: v = 0;
            endcase
            if (((mask >> i) & 1) != 0 && slot < mode_k(i) && v > max_psh) max_psh = v;
        end
    end
endfunction

// widest product in slot s among the compiled modes (4-way: 8 bits, 2-way: 16, 1-way: 26)
function integer max_pw(input integer mask, input integer slot);
    integer i, v;
    begin
        max_pw = 1;
        for (i = 0; i < N_MODES; i = i + 1) begin
            v = (mode_k(i) == 4) ? 8 : (mode_k(i) == 2) ? 16 : 26;
            if (((mask >> i) & 1) != 0 && slot < mode_k(i) && v > max_pw) max_pw = v;
        end
    end
endfunction

// 2 * lsb of a mode id at run time (the exponent of a product's least significant bit)
function signed [9:0] lsb2_of(input [3:0] m);
    case (m)
        M_FP4, M_MXFP4: lsb2_of = -10'sd2;   M_P4: lsb2_of = -10'sd8;   M_P8, M_MXINT8: lsb2_of = -10'sd12;
        M_P16: lsb2_of = -10'sd56;  M_E4M3: lsb2_of = -10'sd18;  M_E5M2: lsb2_of = -10'sd32;
        default: lsb2_of = 10'sd0;
    endcase
endfunction

function integer is_mx(input integer m);
    is_mx = (m == M_MXFP4 || m == M_MXINT8) ? 1 : 0;
endfunction

function integer clog2(input integer v);
    integer x;
    begin
        clog2 = 0;
        x = v - 1;
        while (x > 0) begin
            clog2 = clog2 + 1;
            x = x >> 1;
        end
    end
endfunction
// the fp32 accumulator at PIPE = 1 (word_sum): magnitude bits of a word's exact product sum over
// the compiled non-MX modes (k > 1: the widest shifted slot product and log2 k carry bits;
// k = 1: the product alone, its shift kept as an exponent)
function integer fp32_sum_width(input integer mask);
    integer i, v;
    begin
        fp32_sum_width = 1;
        for (i = 0; i < M_MXFP4; i = i + 1)
            if (((mask >> i) & 1) != 0) begin
                v = (mode_k(i) == 1) ? 26 : max_psh(1 << i, 0) + max_pw(1 << i, 0) + ((mode_k(i) == 4) ? 2 : 1);
                if (v > fp32_sum_width) fp32_sum_width = v;
            end
    end
endfunction
/* verilator lint_on VARHIDDEN */

