import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Max,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

/**
 * One decorator per field type: each sets the class-validator rules and the OpenAPI schema together,
 * so the documentation cannot drift from what the service accepts.
 */
interface FieldOptions {
  description: string;
  optional?: boolean;
  example?: unknown;
}

function documented(options: FieldOptions, schema: Record<string, unknown>): PropertyDecorator {
  const base = { description: options.description, example: options.example, ...schema };
  if (options.optional) return applyDecorators(ApiPropertyOptional(base), IsOptional());

  return ApiProperty({ ...base, required: true });
}

/**
 * Query strings carry integers as text: only plain decimal digits become numbers (`0x2`, `1e3`, ` 2` stay text
 * and fail IsInt naming the field). JSON numbers pass as they are, and so do JSON strings of plain digits.
 */
function decimalInteger(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
}

export function IntField(options: FieldOptions & { min: number; max: number }): PropertyDecorator {
  return applyDecorators(
    documented(options, { type: 'integer', minimum: options.min, maximum: options.max }),
    Transform(({ value }) => decimalInteger(value)),
    IsInt(),
    Min(options.min),
    Max(options.max),
  );
}

export function IntArrayField(
  options: FieldOptions & { min: number; max: number; minItems: number; maxItems: number },
): PropertyDecorator {
  return applyDecorators(
    documented(options, {
      type: 'array',
      items: { type: 'integer', minimum: options.min, maximum: options.max },
      minItems: options.minItems,
      maxItems: options.maxItems,
    }),
    IsArray(),
    ArrayMinSize(options.minItems),
    ArrayMaxSize(options.maxItems),
    IsInt({ each: true }),
    Min(options.min, { each: true }),
    Max(options.max, { each: true }),
  );
}

export function TextField(
  options: FieldOptions & { minLength?: number; maxLength: number; pattern?: RegExp; nullable?: boolean },
): PropertyDecorator {
  const decorators = [
    documented(options, {
      type: 'string',
      minLength: options.minLength,
      maxLength: options.maxLength,
      pattern: options.pattern?.source,
      nullable: options.nullable,
    }),
    IsString(),
    MinLength(options.minLength ?? 0),
    MaxLength(options.maxLength),
    // PostgreSQL text cannot hold NUL: refused here, naming the field, rather than failing the write.
    Matches(/^[^\u0000]*$/, { message: '$property must not contain NUL (\\u0000) characters' }),
  ];
  if (options.pattern) decorators.push(Matches(options.pattern));
  if (options.nullable) decorators.push(IsOptional());

  return applyDecorators(...decorators);
}

export function EnumField(options: FieldOptions & { values: readonly string[] }): PropertyDecorator {
  return applyDecorators(documented(options, { type: 'string', enum: [...options.values] }), IsIn(options.values));
}

export function BoolField(options: FieldOptions): PropertyDecorator {
  return applyDecorators(documented(options, { type: 'boolean' }), IsBoolean());
}

export function IsoTimeField(options: FieldOptions): PropertyDecorator {
  return applyDecorators(
    documented(options, { type: 'string', format: 'date-time' }),
    IsISO8601({ strict: true }, { message: '$property must be an ISO 8601 date-time' }),
  );
}

export function NestedArrayField(
  options: FieldOptions & { type: () => Function; maxItems: number },
): PropertyDecorator {
  return applyDecorators(
    documented(options, { type: options.type, isArray: true, maxItems: options.maxItems }),
    IsArray(),
    ArrayMaxSize(options.maxItems),
    ValidateNested({ each: true }),
    Type(options.type),
  );
}

/** Query strings carry text: trims and turns "" into undefined so optional filters can be left empty. */
export function EmptyAsAbsent(): PropertyDecorator {
  return Transform(({ value }) => (typeof value === 'string' && value.trim() === '' ? undefined : value));
}
