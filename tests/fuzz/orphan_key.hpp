// Shared by the payment harnesses: a provider's public key no input can ever verify against.
#pragma once

// An RSA-2048 public key whose private key was thrown away: nothing can be signed for it.
inline constexpr const char* kOrphanRsaKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyd/7R99CBvmeRv3+Hccw\n"
    "1yE4zeGqQUcrrMMIrsYb9tEcNP57eu53rb5JDT/s6CzG3Urlg6T7ob7SZz7rpXI7\n"
    "BgIGB5g6zcCbvA6t2TMfmaXi08iC8ti6U7xSLgWt0xPP/CR5KfD+sQGPuX1aZ3Q6\n"
    "NC1RxpUo3AyqWW3YEyBDBDbSAUs7AXXxNgDPQid6CYYHAem8/cWWLqnUrAKd3nXX\n"
    "2qsPet9sntEzCa/UupD7cNGh/LD1An2R0GozrqLDWTPYHhqwbFDer8iTxY91FuLX\n"
    "Dn99+soZLRiOjeRCFKN111LhhGg5kph65lgrJCV07AVtpCDlHD6ul+FtCAuGMBJE\n"
    "MQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
