[
  inputs: ["{mix,.formatter}.exs", "{lib,test,mix,examples}/**/*.{ex,exs}"],
  line_length: 110
]
