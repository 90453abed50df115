# The Klarna mock as a container: docker build -t klarna-mock . && docker run -p 8480:8480 klarna-mock
#
# .git is not sent to the build (.dockerignore), so the build records no git revision and
# klarna-mock --version and /readyz report "(devel)" unless the version is given:
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t klarna-mock .
FROM docker.io/library/golang:1.26 AS build
ARG VERSION=""
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# An empty VERSION sets main.version to "", which leaves the build's own version in place.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /klarna-mock ./cmd/klarna-mock

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /klarna-mock /klarna-mock
# Inside a container the mock must listen on every interface; point --public-url (or
# KLARNA_MOCK_PUBLIC_URL) at the address customers' browsers use when it is not the Host header.
ENV KLARNA_MOCK_ADDR=0.0.0.0:8480
EXPOSE 8480
USER nonroot
# The image has no shell and no curl: the mock's own binary GETs /readyz at KLARNA_MOCK_ADDR (on
# the loopback address, since 0.0.0.0 names every interface) and exits 0 when it answers 200.
# Its own 2 s timeout is within Docker's 3 s, so a failed check says why in docker inspect.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/klarna-mock", "healthcheck"]
ENTRYPOINT ["/klarna-mock"]
