import { z } from 'zod';

/** intstr.IntOrString: a JSON number or string. */
export const IntOrStringSchema = z.union([z.number().int(), z.string()]);
export type IntOrString = z.infer<typeof IntOrStringSchema>;

/** resource.Quantity accepts JSON strings ("100m", "1Gi") and numbers. */
export const QuantitySchema = z.union([z.string(), z.number()]);

/** An int32 field: JSON number without fraction. */
export const Int32 = z.number().int().min(-2147483648).max(2147483647);
export const Int64 = z.number().int();

/** An optional field that may also be sent as JSON null (Go's decoder leaves the zero value). */
export const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();
