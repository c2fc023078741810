/** A refusal of an admin operation, with a one-line reason for the operator. */
export class AdminError extends Error {}
