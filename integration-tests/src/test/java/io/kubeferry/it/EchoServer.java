package io.kubeferry.it;

import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A pod's workload in the real-kernel tests: answers every TCP connection and every UDP datagram with its
 * own name, so a client can tell which endpoint it reached. Started inside a pod network namespace.
 * Usage: EchoServer NAME TCP_PORT UDP_PORT
 */
public final class EchoServer {

    public static void main(String[] args) throws Exception {
        String name = args[0];
        byte[] answer = (name + "\n").getBytes(StandardCharsets.UTF_8);
        ServerSocket tcp = new ServerSocket();
        tcp.setReuseAddress(true);
        tcp.bind(new InetSocketAddress(Integer.parseInt(args[1])), 512);
        DatagramSocket udp = new DatagramSocket(Integer.parseInt(args[2]));
        Thread udpThread = new Thread(() -> {
            byte[] buffer = new byte[1500];
            while (true) {
                try {
                    DatagramPacket in = new DatagramPacket(buffer, buffer.length);
                    udp.receive(in);
                    udp.send(new DatagramPacket(answer, answer.length, in.getSocketAddress()));
                } catch (Exception e) {
                    return;
                }
            }
        }, "udp");
        udpThread.setDaemon(true);
        udpThread.start();
        System.out.println("listening " + name);
        System.out.flush();
        while (true) {
            Socket socket = tcp.accept();
            Thread handler = new Thread(() -> {
                try (socket; OutputStream out = socket.getOutputStream()) {
                    out.write(answer);
                    out.flush();
                    // Keep the connection open until the client closes it: graceful-drain tests hold one open.
                    socket.getInputStream().read();
                } catch (Exception e) {
                    // client went away
                }
            });
            handler.setDaemon(true);
            handler.start();
        }
    }
}
