// Reconfigurable significand multiplier (XR-NPE's RMMEC idea): one 16 x 16 array of 4 x 4
// partial products that splits into 4, 2 or 1 products per word pair.  The full product is
// sum(pp[i][j] << 4*(i+j)); masking the partial products that cross sub-word boundaries leaves
// the independent sub-word products, each in its own field of the 32-bit result:
//   kmode 2'd0  (4-way): p_s = a[4s+:4] * b[4s+:4]   at bits [8s +: 8]
//   kmode 2'd1  (2-way): p_s = a[8s+:8] * b[8s+:8]   at bits [16s +: 16]
//   kmode 2'd2  (1-way): p   = a * b                 at bits [31:0]
module rmul16 #(
    parameter integer KMASK = 7     // which kmode values can occur: bit0 4-way, bit1 2-way, bit2 1-way
) (
    input  wire [15:0] a,
    input  wire [15:0] b,
    input  wire [1:0]  kmode,
    output reg  [31:0] p
);
    integer i, j;
    reg keep;
    // with one possible kmode the split is fixed and synthesis drops the unused partial products
    wire [1:0] km = (KMASK == 1) ? 2'd0 : (KMASK == 2) ? 2'd1 : (KMASK == 4) ? 2'd2 : kmode;
    always @* begin
        p = 32'd0;
        for (i = 0; i < 4; i = i + 1)
            for (j = 0; j < 4; j = j + 1) begin
                keep = (km == 2'd2) || (km == 2'd1 && (i >> 1) == (j >> 1)) || (i == j);
                if (keep) p = p + ({24'd0, {4'd0, a[4*i +: 4]} * {4'd0, b[4*j +: 4]}} << (4 * (i + j)));
            end
    end
endmodule
