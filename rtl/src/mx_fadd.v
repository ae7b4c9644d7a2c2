// MX accumulation step: RNE_fp32(acc + bsum * 2^(lsb2 + (sa - 127) + (sb - 127))), one rounding,
// as sim's fadd32: the exact block sum bsum is added to the FP32 running sum (fadd_fp32).
// A NaN scale (E8M0 0xFF) gives NaN; Inf/NaN in acc stay; an exact zero sum is +0.
module mx_fadd (
    input  wire [31:0]        acc,
    input  wire signed [20:0] bsum,
    input  wire [7:0]         sa,
    input  wire [7:0]         sb,
    input  wire signed [9:0]  lsb2,
    output wire [31:0]        sum
);
    wire        xs = bsum[20];
    wire [20:0] xm = xs ? -bsum : bsum;      // |-2^20| = 2^20 still fits in 21 bits
    wire signed [11:0] xexp = $signed({{2{lsb2[9]}}, lsb2}) + $signed({4'd0, sa}) + $signed({4'd0, sb}) - 12'sd254;
    wire [31:0] fsum;
    fadd_fp32 #(.MW(21), .EW(12)) u_add (.acc(acc), .xs(xs), .xm(xm), .xexp(xexp), .sum(fsum));
    wire nan_scale = (sa == 8'hff) || (sb == 8'hff);
    assign sum = nan_scale ? 32'h7fc00000 : fsum;
endmodule
