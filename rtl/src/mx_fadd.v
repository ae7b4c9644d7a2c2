// MX accumulation step: RNE_fp32(acc + bsum * 2^(lsb2 + (sa - 127) + (sb - 127))), one rounding,
// as sim's fadd32: the exact block sum bsum is added to the FP32 running sum.  A NaN scale
// (E8M0 0xFF) gives NaN; Inf/NaN in acc stay; an exact zero sum is +0.
// Exponent gaps above CAP are folded into a sticky bit (at least two bits below the rounding
// position, so the single rounding is still exact).
module mx_fadd (
    input  wire [31:0]        acc,
    input  wire signed [20:0] bsum,
    input  wire [7:0]         sa,
    input  wire [7:0]         sb,
    input  wire signed [9:0]  lsb2,
    output wire [31:0]        sum
);
    localparam CAP = 48;
    localparam FW = 24 + CAP + 3;            // signed frame width
    wire [7:0]  ae = acc[30:23];
    wire [23:0] am = (ae == 8'd0) ? {1'b0, acc[22:0]} : {1'b1, acc[22:0]};
    wire signed [11:0] aexp = ((ae == 8'd0) ? 12'sd1 : $signed({4'd0, ae})) - 12'sd150;
    wire        xs = bsum[20];
    wire [23:0] xm = {3'd0, (xs ? -bsum : bsum)};
    wire signed [11:0] xexp = $signed({{2{lsb2[9]}}, lsb2}) + $signed({4'd0, sa}) + $signed({4'd0, sb}) - 12'sd254;
    wire        as = acc[31];
    wire        a_zero = (am == 24'd0);
    wire        x_zero = (xm == 24'd0);
    // the operand with the larger exponent is "hi" (a zero operand is never hi)
    wire        a_hi = !a_zero && (x_zero || aexp >= xexp);
    wire [23:0] hm = a_hi ? am : xm;
    wire [23:0] lm = a_hi ? (x_zero ? 24'd0 : xm) : (a_zero ? 24'd0 : am);
    wire        hs = a_hi ? as : xs;
    wire        ls = a_hi ? xs : as;
    wire signed [11:0] he = a_hi ? aexp : xexp;
    wire signed [11:0] le = a_hi ? xexp : aexp;
    wire signed [12:0] d = he - le;          // >= 0 when lm != 0
    wire [6:0]  s  = (lm == 24'd0) ? 7'd0 : (d > CAP) ? CAP : d[6:0];
    wire signed [12:0] r_full = d - $signed({6'd0, s});
    wire [4:0]  r  = (lm == 24'd0) ? 5'd0 : (r_full > 25) ? 5'd25 : r_full[4:0];
    wire [47:0] lw = {lm, 24'd0} >> r;
    wire        lsticky = |lw[23:0];
    wire [FW-1:0] hterm = {{(FW-24){1'b0}}, hm} << (s + 7'd1);
    wire [FW-1:0] lt    = {{(FW-25){1'b0}}, lw[47:24], lsticky};
    wire signed [FW-1:0] f = (hs ? -$signed(hterm) : $signed(hterm)) + (ls ? -$signed(lt) : $signed(lt));
    wire        fs = f[FW-1];
    wire [FW-1:0] fm = fs ? -f : f;
    wire signed [11:0] fexp = he - $signed({5'd0, s}) - 12'sd1;
    wire [31:0] rounded;
    enc_fp32 #(.WM(FW), .EW(12)) u_round (.sign(fs), .mag(fm), .lsbexp(fexp), .code(rounded));
    wire nan_scale = (sa == 8'hff) || (sb == 8'hff);
    assign sum = nan_scale ? 32'h7fc00000 :
                 (ae == 8'hff) ? acc :
                 x_zero ? ((acc == 32'h80000000) ? 32'd0 : acc) :
                 rounded;
endmodule
