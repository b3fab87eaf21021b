import {
  type AttributeProto,
  AttributeType,
  DataType,
  encodeModel,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./proto.js";

/** A value in the graph under construction: the name of a graph input, an initializer or a node output. */
export type Value = string;

/** Integer, string or integer-list attributes: all that our ops take. */
type Attribute = number | string | readonly number[];

/**
 * Builds an ONNX graph one op at a time, the way one writes tensor code: each `op` returns the name of its
 * output, so a graph reads like the maths it computes. Names are generated; constants become initializers.
 */
export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private count = 0;

  /** A float input fed at run time. */
  input(name: string, dims: readonly (number | string)[]): Value {
    this.inputs.push({ name, dims });
    return name;
  }

  /** Declares `value` a graph output under `name`. */
  output(name: string, value: Value, dims: readonly (number | string)[]): void {
    this.nodes.push(node("Identity", [value], [name], {}));
    this.outputs.push({ name, dims });
  }

  /** A float constant: a scalar or a tensor of the given shape. */
  floats(values: number | Float32Array, dims: readonly number[] = []): Value {
    const data = typeof values === "number" ? Float32Array.of(values) : values;
    return this.initializer(
      DataType.Float,
      dims,
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }

  /** An int64 vector constant (shapes, axes, pads). */
  ints(values: readonly number[]): Value {
    const data = BigInt64Array.from(values, (v) => BigInt(v));
    return this.initializer(DataType.Int64, [values.length], new Uint8Array(data.buffer));
  }

  /** Appends one node; returns its (first) output. */
  op(opType: string, inputs: readonly Value[], attributes: Record<string, Attribute> = {}): Value {
    return this.opN(opType, inputs, 1, attributes)[0]!;
  }

  /** Appends one node with `outputs` outputs. */
  opN(
    opType: string,
    inputs: readonly Value[],
    outputs: number,
    attributes: Record<string, Attribute> = {},
  ): Value[] {
    const names = Array.from({ length: outputs }, () => this.name(opType));
    this.nodes.push(node(opType, inputs, names, attributes));
    return names;
  }

  /** The serialised model. */
  encode(name: string): Uint8Array {
    return encodeModel({
      name,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
  }

  private initializer(dataType: DataType, dims: readonly number[], rawData: Uint8Array): Value {
    const name = this.name("const");
    this.initializers.push({ name, dims, dataType, rawData });
    return name;
  }

  private name(base: string): Value {
    this.count += 1;
    return `${base}_${this.count}`;
  }
}

function node(
  opType: string,
  input: readonly Value[],
  output: readonly Value[],
  attributes: Record<string, Attribute>,
): NodeProto {
  return { opType, input, output, attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)) };
}

function attribute(name: string, value: Attribute): AttributeProto {
  if (typeof value === "string")
    return { name, type: AttributeType.String, s: new TextEncoder().encode(value) };
  if (typeof value === "number") return { name, type: AttributeType.Int, i: value };
  return { name, type: AttributeType.Ints, ints: value };
}
