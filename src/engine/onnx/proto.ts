import protobuf from "protobufjs";

/**
 * The part of the ONNX model format (onnx/onnx.proto3, IR version 7) that our graphs use, and its binary
 * encoding through protobufjs. Field numbers are ONNX's own; only the fields we write are declared.
 */

/** TensorProto.DataType values. */
export const DataType = { Float: 1, Int64: 7 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values. */
export const AttributeType = { Int: 2, String: 3, Ints: 7 } as const;
export type AttributeType = (typeof AttributeType)[keyof typeof AttributeType];

export interface TensorProto {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: DataType;
  /** Little-endian values, as ONNX's raw_data. */
  readonly rawData: Uint8Array;
}

export interface AttributeProto {
  readonly name: string;
  readonly type: AttributeType;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly ints?: readonly number[];
}

export interface NodeProto {
  readonly opType: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly AttributeProto[];
}

/** A float tensor value; a dimension is a size or the name of a size fixed only at run time. */
export interface ValueInfoProto {
  readonly name: string;
  readonly dims: readonly (number | string)[];
}

export interface GraphProto {
  readonly name: string;
  readonly node: readonly NodeProto[];
  readonly initializer: readonly TensorProto[];
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
}

const IR_VERSION = 7;
/** Default-domain opset: every op we emit has its current semantics at 13. */
const OPSET = 13;

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            producerName: { type: "string", id: 2 },
            graph: { type: "GraphProto", id: 7 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            opType: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            i: { type: "int64", id: 3 },
            s: { type: "bytes", id: 4 },
            ints: { rule: "repeated", type: "int64", id: 8 },
            type: { type: "int32", id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            name: { type: "string", id: 8 },
            rawData: { type: "bytes", id: 9 },
          },
        },
        ValueInfoProto: {
          fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 } },
        },
        TypeProto: {
          fields: { tensorType: { type: "TypeProtoTensor", id: 1 } },
        },
        TypeProtoTensor: {
          fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } },
        },
        TensorShapeProto: {
          fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } },
        },
        Dimension: {
          oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
          fields: { dimValue: { type: "int64", id: 1 }, dimParam: { type: "string", id: 2 } },
        },
      },
    },
  },
});
const ModelProto = root.lookupType("onnx.ModelProto");

/** The serialised ModelProto of `graph`, ready for onnxruntime's InferenceSession.create. */
export function encodeModel(graph: GraphProto): Uint8Array {
  const valueInfo = (v: ValueInfoProto) => ({
    name: v.name,
    type: {
      tensorType: {
        elemType: DataType.Float,
        shape: { dim: v.dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
  const model = {
    irVersion: IR_VERSION,
    producerName: "stylize",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: { ...graph, input: graph.input.map(valueInfo), output: graph.output.map(valueInfo) },
  };
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
