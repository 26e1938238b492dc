import { z } from "zod";

/** An IPv4 or IPv6 address (the schema's type, and the test of isIp). */
export const ip = z.union([z.ipv4(), z.ipv6()]);
/** The addresses that mean every interface. */
export const ALL_ADDRESSES = ["0.0.0.0", "::"];
export const isIp = (value: string) => ip.safeParse(value).success;
export const isLoopback = (value: string) => /^127\./.test(value) || value === "::1" || value.toLowerCase() === "localhost";
/** A TCP or UDP port number. */
export const port = z.number().int().min(1).max(65535);
