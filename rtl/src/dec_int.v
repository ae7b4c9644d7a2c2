// Two's complement integer element -> sign / magnitude (value = mag, lsb exponent 0).
module dec_int #(
    parameter N = 8
) (
    input  wire [N-1:0] code,
    output wire         sign,
    output wire [N-1:0] mag      // |value|; -2^(N-1) gives 2^(N-1), which fits N unsigned bits
);
    assign sign = code[N-1];
    assign mag  = code[N-1] ? (~code + 1'b1) : code;
endmodule
